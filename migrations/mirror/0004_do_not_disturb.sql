-- Desktop mirror, step 4: the user's quiet hours and do-not-disturb as the hub last announced
-- them (JSON of herald_proto::DoNotDisturb), so an agent started offline still honours them.
ALTER TABLE sync_state ADD COLUMN do_not_disturb TEXT;
