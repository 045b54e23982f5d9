//! This desktop's own settings, whatever the hubs say: start at login (the autostart entry is
//! the record) and sound (`device.json` in the data directory).

use std::path::Path;

use crate::autostart;
use crate::ipc::settings::DeviceSettings;

#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    sound: bool,
}

pub fn load(data_dir: &Path) -> DeviceSettings {
    let sound = std::fs::read_to_string(data_dir.join("device.json"))
        .ok()
        .and_then(|text| serde_json::from_str::<Saved>(&text).ok())
        .map_or(DeviceSettings::default().sound, |saved| saved.sound);
    let start_at_login = autostart::here().is_some_and(|entry| entry.is_enabled());
    DeviceSettings { start_at_login, sound }
}

/// Keeps what the autostart entry does not record.
pub fn save(data_dir: &Path, device: &DeviceSettings) -> std::io::Result<()> {
    std::fs::create_dir_all(data_dir)?;
    let text = serde_json::to_string(&Saved { sound: device.sound }).expect("plain data serializes");
    let partial = data_dir.join("device.json.partial");
    std::fs::write(&partial, text)?;
    std::fs::rename(partial, data_dir.join("device.json"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sound_is_on_until_turned_off_and_stays_off() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load(dir.path()).sound);
        save(dir.path(), &DeviceSettings { start_at_login: false, sound: false }).unwrap();
        assert!(!load(dir.path()).sound);
    }
}
