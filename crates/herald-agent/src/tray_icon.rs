//! The tray icon, drawn in code at each size a panel may ask for: a round blue mark, grey when
//! offline, with a red badge counting the unread (1 to 9, then "9+"). No image files to load at
//! startup.

use herald_client::status::{Badge, UnreadMark};

/// The sizes a StatusNotifierItem host may ask for (Windows takes one, 32 px, and scales it).
#[cfg_attr(windows, allow(dead_code))]
pub const SIZES: [i32; 3] = [22, 32, 48];

const BLUE: [u8; 3] = [0x25, 0x63, 0xeb];
const GREY: [u8; 3] = [0x8a, 0x8f, 0x98];
const RED: [u8; 3] = [0xe1, 0x1d, 0x48];
const WHITE: [u8; 3] = [0xff, 0xff, 0xff];

/// Digits and '+' in a 3×5 pixel font, a row of three bits each, top row first.
const GLYPHS: [(char, [u8; 5]); 11] = [
    ('0', [0b111, 0b101, 0b101, 0b101, 0b111]),
    ('1', [0b010, 0b110, 0b010, 0b010, 0b111]),
    ('2', [0b111, 0b001, 0b111, 0b100, 0b111]),
    ('3', [0b111, 0b001, 0b111, 0b001, 0b111]),
    ('4', [0b101, 0b101, 0b111, 0b001, 0b001]),
    ('5', [0b111, 0b100, 0b111, 0b001, 0b111]),
    ('6', [0b111, 0b100, 0b111, 0b101, 0b111]),
    ('7', [0b111, 0b001, 0b001, 0b001, 0b001]),
    ('8', [0b111, 0b101, 0b111, 0b101, 0b111]),
    ('9', [0b111, 0b101, 0b111, 0b001, 0b111]),
    ('+', [0b000, 0b010, 0b111, 0b010, 0b000]),
];

#[cfg(target_os = "linux")]
pub fn draw(badge: Badge, size: i32) -> ksni::Icon {
    ksni::Icon { width: size, height: size, data: argb(badge, size) }
}

/// ARGB32 in network byte order, row by row, as StatusNotifierItem wants.
pub fn argb(badge: Badge, size: i32) -> Vec<u8> {
    let s = size as f32;
    let body = if badge.offline { GREY } else { BLUE };
    let text = match badge.unread {
        UnreadMark::None => None,
        UnreadMark::Few(n) => Some(n.to_string()),
        UnreadMark::Many => Some("9+".to_owned()),
    };
    // The badge: a red disc in the top-right corner, the count in white pixels inside it.
    let (dot_x, dot_y, dot_r) = (s * 0.72, s * 0.28, s * 0.28);
    let scale = ((dot_r * 1.1) / 5.0).floor().max(1.0) as i32;
    let label = text.as_deref().map(|t| Label::new(t, scale, dot_x, dot_y));
    let mut data = Vec::with_capacity((size * size * 4) as usize);
    for y in 0..size {
        for x in 0..size {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let from_centre = ((px - s / 2.0).powi(2) + (py - s / 2.0).powi(2)).sqrt();
            let from_dot = ((px - dot_x).powi(2) + (py - dot_y).powi(2)).sqrt();
            let colour = match &label {
                Some(label) if from_dot < dot_r => Some(if label.covers(x, y) { WHITE } else { RED }),
                _ if from_centre < s * 0.46 => {
                    // A white ring inside the disc reads as a bell/bubble at small sizes.
                    let ring = (from_centre - s * 0.24).abs() < s * 0.06;
                    Some(if ring { WHITE } else { body })
                }
                _ => None,
            };
            match colour {
                Some([r, g, b]) => data.extend_from_slice(&[0xff, r, g, b]),
                None => data.extend_from_slice(&[0, 0, 0, 0]),
            }
        }
    }
    data
}

/// A short text in the pixel font, centred on a point.
struct Label {
    glyphs: Vec<[u8; 5]>,
    scale: i32,
    left: i32,
    top: i32,
}

impl Label {
    fn new(text: &str, scale: i32, centre_x: f32, centre_y: f32) -> Self {
        let glyphs: Vec<[u8; 5]> =
            text.chars().filter_map(|c| GLYPHS.iter().find(|(g, _)| *g == c).map(|(_, rows)| *rows)).collect();
        // Three pixels a glyph, one between glyphs.
        let width = (glyphs.len() as i32 * 4 - 1) * scale;
        let height = 5 * scale;
        let left = (centre_x - width as f32 / 2.0).round() as i32;
        let top = (centre_y - height as f32 / 2.0).round() as i32;
        Self { glyphs, scale, left, top }
    }

    fn covers(&self, x: i32, y: i32) -> bool {
        let (column, row) = ((x - self.left).div_euclid(self.scale), (y - self.top).div_euclid(self.scale));
        if x < self.left || y < self.top || !(0..5).contains(&row) || column % 4 == 3 {
            return false;
        }
        let Some(rows) = self.glyphs.get((column / 4) as usize) else { return false };
        rows[row as usize] & (0b100 >> (column % 4)) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn badge(offline: bool, unread: u32) -> Badge {
        Badge { offline, unread: UnreadMark::of(unread) }
    }

    fn pixel(image: &[u8], size: i32, x: i32, y: i32) -> [u8; 4] {
        let at = ((y * size + x) * 4) as usize;
        image[at..at + 4].try_into().unwrap()
    }

    fn white_pixels(image: &[u8]) -> usize {
        image.chunks(4).filter(|p| *p == [0xff, WHITE[0], WHITE[1], WHITE[2]]).count()
    }

    #[test]
    fn each_state_and_count_looks_different_at_every_size() {
        for size in SIZES {
            let idle = argb(badge(false, 0), size);
            assert_eq!(idle.len(), (size * size * 4) as usize);
            assert_eq!(pixel(&idle, size, 0, 0), [0, 0, 0, 0], "the corner is transparent");
            let images: Vec<Vec<u8>> =
                [(false, 0), (true, 0), (false, 1), (false, 2), (false, 7), (false, 9), (false, 10), (true, 10)]
                    .iter()
                    .map(|&(offline, unread)| argb(badge(offline, unread), size))
                    .collect();
            for (i, a) in images.iter().enumerate() {
                for b in &images[i + 1..] {
                    assert_ne!(a, b, "size {size}: two states look the same");
                }
            }
            assert_eq!(argb(badge(false, 10), size), argb(badge(false, 500), size), "past nine, all are 9+");
        }
    }

    #[test]
    fn the_badge_is_red_with_a_white_count_inside() {
        let size = 32;
        let one = argb(badge(false, 1), size);
        // Just inside the badge's top edge: red, not the blue mark.
        assert_eq!(pixel(&one, size, 23, 2), [0xff, RED[0], RED[1], RED[2]]);
        // "8" lights more pixels than "1", and "9+" more than "9".
        assert!(white_pixels(&argb(badge(false, 8), size)) > white_pixels(&one));
        assert!(white_pixels(&argb(badge(false, 10), size)) > white_pixels(&argb(badge(false, 9), size)));
    }
}
