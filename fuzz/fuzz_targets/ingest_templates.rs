//! Events from other systems, as `POST /v1/ingest/{source}` renders them. The first byte picks
//! what is fuzzed: an event envelope against the built-in templates (what any allowed app can
//! send), or a whole templates file (what an admin writes) against the seed 004 samples. Either
//! may be refused with an error; nothing may panic or hang.

#![no_main]

use std::sync::OnceLock;

use herald_hub::ingest::Templates;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

fn built_in() -> &'static Templates {
    static TEMPLATES: OnceLock<Templates> = OnceLock::new();
    TEMPLATES.get_or_init(Templates::built_in)
}

fn samples() -> &'static Vec<Value> {
    static SAMPLES: OnceLock<Vec<Value>> = OnceLock::new();
    SAMPLES.get_or_init(|| {
        serde_json::from_str(include_str!("../../crates/herald-hub/tests/fixtures/selfcommunity_events.json")).unwrap()
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    if mode % 2 == 0 {
        let Ok(envelope) = serde_json::from_slice::<Value>(rest) else { return };
        if let Ok(rendered) = built_in().render("selfcommunity", &envelope) {
            // What the hub then checks as a send: trimmed text, one entry per recipient.
            let recipients = envelope["data"]["recipients"].as_array().map_or(0, Vec::len);
            assert_eq!(rendered.len(), recipients);
            for one in rendered {
                assert_eq!(one.user.trim(), one.user);
                assert!(one.fields.values().all(|v| !v.is_empty() && v.trim() == v), "{:?}", one.fields);
            }
        }
    } else {
        let Ok(text) = std::str::from_utf8(rest) else { return };
        let Ok(templates) = Templates::parse(text) else { return };
        for sample in samples() {
            let _ = templates.render("selfcommunity", sample);
        }
    }
});
