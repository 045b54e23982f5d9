//! The tray icon, drawn in code at each size a panel may ask for: a round blue mark, grey when
//! offline, with a red dot when something is unread. No image files to load at startup.

use herald_client::status::Badge;

pub const SIZES: [i32; 3] = [22, 32, 48];

const BLUE: [u8; 3] = [0x25, 0x63, 0xeb];
const GREY: [u8; 3] = [0x8a, 0x8f, 0x98];
const RED: [u8; 3] = [0xe1, 0x1d, 0x48];
const WHITE: [u8; 3] = [0xff, 0xff, 0xff];

#[cfg(target_os = "linux")]
pub fn draw(badge: Badge, size: i32) -> ksni::Icon {
    ksni::Icon { width: size, height: size, data: argb(badge, size) }
}

/// ARGB32 in network byte order, row by row, as StatusNotifierItem wants.
pub fn argb(badge: Badge, size: i32) -> Vec<u8> {
    let s = size as f32;
    let body = if badge == Badge::Offline { GREY } else { BLUE };
    let mut data = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let from_centre = ((px - s / 2.0).powi(2) + (py - s / 2.0).powi(2)).sqrt();
            let from_dot = ((px - s * 0.78).powi(2) + (py - s * 0.22).powi(2)).sqrt();
            let colour = if badge == Badge::Unread && from_dot < s * 0.2 {
                Some(RED)
            } else if from_centre < s * 0.46 {
                // A white ring inside the disc reads as a bell/bubble at small sizes.
                let ring = (from_centre - s * 0.24).abs() < s * 0.06;
                Some(if ring { WHITE } else { body })
            } else {
                None
            };
            match colour {
                Some([r, g, b]) => data.extend_from_slice(&[0xff, r, g, b]),
                None => data.extend_from_slice(&[0, 0, 0, 0]),
            }
        }
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_state_looks_different_and_fills_the_size() {
        let idle = argb(Badge::Idle, 32);
        assert_eq!(idle.len(), 32 * 32 * 4);
        assert_ne!(idle, argb(Badge::Unread, 32));
        assert_ne!(idle, argb(Badge::Offline, 32));
        // The corner is transparent, the centre ring white, the unread dot red.
        assert_eq!(&idle[0..4], &[0, 0, 0, 0]);
        let unread = argb(Badge::Unread, 32);
        let dot = ((7 * 32 + 25) * 4) as usize;
        assert_eq!(&unread[dot..dot + 4], &[0xff, RED[0], RED[1], RED[2]]);
    }
}
