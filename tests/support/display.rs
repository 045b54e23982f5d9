//! A private X server (Xvfb) for one test, so a webview can run with no screen.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

pub struct Display {
    pub name: String,
    server: Child,
}

impl Display {
    pub fn start() -> Self {
        // -displayfd makes Xvfb choose a free display number and print it once it accepts clients.
        let mut server = Command::new("Xvfb")
            .args(["-displayfd", "1", "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb must be installed (apt package xvfb)");
        let mut line = String::new();
        BufReader::new(server.stdout.take().unwrap()).read_line(&mut line).expect("Xvfb prints its display number");
        let number = line.trim();
        assert!(!number.is_empty(), "Xvfb did not start");
        Self { name: format!(":{number}"), server }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        let _ = self.server.kill();
        let _ = self.server.wait();
    }
}
