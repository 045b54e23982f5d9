/* ProcessPrng, which Rust's standard library on Windows takes its randomness from, for Wine 8
 * (Debian 12's), whose bcryptprimitives.dll is missing: without it no Rust program for Windows
 * starts under that Wine. It asks RtlGenRandom, as older Rust did. Test machinery only: Windows
 * itself has the real one since Windows 8. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n)) return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
