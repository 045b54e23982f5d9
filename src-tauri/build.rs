fn main() {
    // Declaring the app's commands makes each one a permission that a capability must grant:
    // a window can call only what capabilities/*.json list for it.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "list_notifications",
        "get_notification",
        "take_initial_show",
        "mark_read",
        "agent_snapshot",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("tauri build script");
}
