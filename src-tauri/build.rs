fn main() {
    // Declaring the app's commands makes each one a permission that a capability must grant:
    // a window can call only what capabilities/*.json list for it.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "search_notifications",
        "get_notification",
        "notification_types",
        "synced_at",
        "open_link",
        "take_open",
        "open_window",
        "dismiss",
        "act",
        "snooze_live",
        "ask",
        "agent_snapshot",
    ]);
    // The icons live at the repository's root, beside the agent's; Windows builds embed this one.
    let windows = tauri_build::WindowsAttributes::new().window_icon_path("../icons/icon.ico");
    let attributes = tauri_build::Attributes::new().app_manifest(manifest).windows_attributes(windows);
    tauri_build::try_build(attributes).expect("tauri build script");
}
