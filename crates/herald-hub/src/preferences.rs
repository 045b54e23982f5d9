//! Which channels a notification reaches for one recipient (seed 001): the type's defaults,
//! then the user's roles, then the user's own switches; locked channels stay on whatever anyone
//! says. Pure, so the rules are tested without a database.

use herald_proto::{Channel, ChannelState, PreferenceSource};

use crate::types::{module_of, ChannelRule};

/// One stored switch: `key` is a full type or a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Switch {
    pub key: String,
    pub channel: Channel,
    pub enabled: bool,
}

/// The state of every channel for `kind`. `roles` are the switches of all the user's roles:
/// when they disagree, "on" wins (a role that needs a channel gets it). Within each layer a
/// switch for the type beats one for its module.
pub fn resolve(rule: &ChannelRule, kind: &str, roles: &[Switch], user: &[Switch]) -> Vec<ChannelState> {
    let module = module_of(kind);
    // Most general first, so later keys override earlier ones.
    let keys: &[&str] = if module == kind { &[kind] } else { &[module, kind] };
    Channel::ALL
        .into_iter()
        .map(|channel| {
            let locked = rule.locked.contains(&channel);
            let mut state = ChannelState {
                channel,
                on: rule.channels.contains(&channel),
                locked,
                source: PreferenceSource::Default,
            };
            if locked {
                return state;
            }
            for key in keys {
                let mut matching = roles.iter().filter(|s| s.key == *key && s.channel == channel).peekable();
                if matching.peek().is_some() {
                    state.on = matching.any(|s| s.enabled);
                    state.source = PreferenceSource::Role;
                }
            }
            for key in keys {
                if let Some(switch) = user.iter().find(|s| s.key == *key && s.channel == channel) {
                    state.on = switch.enabled;
                    state.source = PreferenceSource::User;
                }
            }
            state
        })
        .collect()
}

/// The channels that are on, in [`Channel::ALL`] order.
pub fn channels_on(states: &[ChannelState]) -> Vec<Channel> {
    states.iter().filter(|s| s.on).map(|s| s.channel).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::TypeRegistry;
    use Channel::*;

    fn switch(key: &str, channel: Channel, enabled: bool) -> Switch {
        Switch { key: key.into(), channel, enabled }
    }

    fn registry() -> TypeRegistry {
        TypeRegistry::parse(
            r#"
            [defaults]
            channels = ["inbox", "desktop"]
            [[types]]
            type = "social.reply"
            title = "Replies"
            channels = ["inbox", "desktop", "email"]
            [[types]]
            type = "system.shutdown"
            title = "Shutdowns"
            channels = ["inbox", "desktop"]
            critical = true
            [[types]]
            type = "po.approval"
            title = "Approvals"
            channels = ["inbox", "desktop"]
            locked = ["desktop"]
            [[types]]
            type = "web.only"
            title = "Browser pop-ups only (the file names web_push, so desktop stays desktop)"
            channels = ["web_push"]
            "#,
        )
        .unwrap()
    }

    fn on(kind: &str, roles: &[Switch], user: &[Switch]) -> Vec<Channel> {
        let registry = registry();
        channels_on(&resolve(registry.rule_for(kind), kind, roles, user))
    }

    #[test]
    fn defaults_come_from_the_schema_and_unknown_types_get_the_file_defaults() {
        assert_eq!(on("social.reply", &[], &[]), [Inbox, Desktop, Email]);
        assert_eq!(on("crm.whatever", &[], &[]), [Inbox, Desktop]);
    }

    #[test]
    fn roles_override_defaults_and_the_user_overrides_roles() {
        let roles = [switch("social", Email, false)];
        assert_eq!(on("social.reply", &roles, &[]), [Inbox, Desktop]);
        let user = [switch("social.reply", Email, true)];
        assert_eq!(on("social.reply", &roles, &user), [Inbox, Desktop, Email]);
        let states = resolve(registry().rule_for("social.reply"), "social.reply", &roles, &user);
        let source = |channel| states.iter().find(|s| s.channel == channel).unwrap().source;
        assert_eq!(source(Email), PreferenceSource::User);
        assert_eq!(source(Desktop), PreferenceSource::Default);
    }

    #[test]
    fn a_type_switch_beats_its_module_switch_within_a_layer() {
        let user = [switch("social.reply", Desktop, true), switch("social", Desktop, false)];
        assert_eq!(on("social.reply", &[], &user), [Inbox, Desktop, Email]);
        assert_eq!(on("social.like", &[], &user), [Inbox]);
    }

    #[test]
    fn when_roles_disagree_on_wins() {
        let roles = [switch("social.reply", Email, false), switch("social.reply", Email, true)];
        assert_eq!(on("social.reply", &roles, &[]), [Inbox, Desktop, Email]);
    }

    #[test]
    fn nobody_turns_off_the_inbox_a_locked_channel_or_a_critical_type() {
        let off =
            [switch("system", Desktop, false), switch("po.approval", Desktop, false), switch("x.y", Inbox, false)];
        assert_eq!(on("system.shutdown", &off, &off), [Inbox, Desktop]);
        assert_eq!(on("po.approval", &off, &off), [Inbox, Desktop]);
        assert_eq!(on("x.y", &off, &off), [Inbox, Desktop]);
        let states = resolve(registry().rule_for("po.approval"), "po.approval", &[], &off);
        let locked = |channel| states.iter().find(|s| s.channel == channel).unwrap().locked;
        assert!(locked(Desktop) && locked(Inbox) && !locked(WebPush) && !locked(Email));
    }
}
