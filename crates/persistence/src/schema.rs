//! The diesel schema shared by both backends. It must match `migrations/postgres` and
//! `migrations/sqlite`; the round-trip tests prove it does on both.

diesel::table! {
    organizations (id) {
        id -> Text,
        name -> Text,
        min_raters -> Integer,
        default_monthly_hours_budget -> Double,
        no_show_counts -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        email_change_hold_hours -> Integer,
        allow_contract_overdraft -> Integer,
        stuck_after_days -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        organization_id -> Nullable<Text>,
        email -> Text,
        email_normalized -> Text,
        name -> Text,
        role_admin -> Integer,
        role_hr_partner -> Integer,
        role_coach -> Integer,
        status -> Text,
        external_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        sign_in_hold_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        occurred_at -> Timestamp,
        organization_id -> Nullable<Text>,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        action -> Text,
        resource_type -> Text,
        resource_id -> Text,
        request_id -> Text,
        changed_fields -> Text,
    }
}

diesel::table! {
    instance_secrets (name) {
        name -> Text,
        value -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    api_clients (id) {
        id -> Text,
        client_id -> Text,
        organization_id -> Text,
        name -> Text,
        scopes -> Text,
        secret_hash -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        secret_rotated_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    outbox (id) {
        id -> Text,
        kind -> Text,
        organization_id -> Nullable<Text>,
        payload -> Text,
        created_at -> Timestamp,
        available_at -> Timestamp,
        attempts -> Integer,
        last_error -> Nullable<Text>,
        locked_until -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        ordering_key -> Nullable<Text>,
        lane -> Text,
    }
}

diesel::table! {
    sign_in_tokens (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    engagements (id) {
        id -> Text,
        organization_id -> Text,
        title -> Text,
        leader_id -> Text,
        coach_id -> Text,
        hr_partner_id -> Nullable<Text>,
        phase -> Text,
        held_from -> Nullable<Text>,
        start_date -> Date,
        planned_end_date -> Date,
        monthly_hours_budget -> Double,
        renewed_from_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        sponsor_ids -> Text,
        template_id -> Text,
        template_version -> BigInt,
        contract_id -> Nullable<Text>,
    }
}

diesel::table! {
    engagement_sponsors (engagement_id, user_id) {
        engagement_id -> Text,
        user_id -> Text,
        organization_id -> Text,
    }
}

diesel::table! {
    engagement_transitions (id) {
        id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        from_phase -> Nullable<Text>,
        to_phase -> Text,
        reason -> Nullable<Text>,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    events (id) {
        id -> Text,
        organization_id -> Text,
        engagement_id -> Nullable<Text>,
        event_type -> Text,
        payload -> Text,
        occurred_at -> Timestamp,
    }
}

diesel::table! {
    context_meetings (engagement_id) {
        engagement_id -> Text,
        organization_id -> Text,
        met_on -> Date,
        attendees -> Text,
        notes -> Text,
        benchmarks -> Text,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    outcomes (id) {
        id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        title -> Text,
        description -> Nullable<Text>,
        measure -> Nullable<Text>,
        baseline -> Nullable<Text>,
        target -> Nullable<Text>,
        unit -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    outcome_measurements (id) {
        id -> Text,
        outcome_id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        value -> Text,
        note -> Nullable<Text>,
        measured_at -> Timestamp,
        source -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    leader_interviews (engagement_id) {
        engagement_id -> Text,
        organization_id -> Text,
        interviewed_on -> Date,
        commitments -> Nullable<Text>,
        immediate_concerns -> Nullable<Text>,
        common_breakdowns -> Nullable<Text>,
        behaviours -> Nullable<Text>,
        communication_style -> Nullable<Text>,
        promise_pattern -> Nullable<Text>,
        notes -> Nullable<Text>,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    raters (id) {
        id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        name -> Text,
        email -> Nullable<Text>,
        relationship -> Text,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    rater_interviews (rater_id) {
        rater_id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        interviewed_on -> Date,
        notes -> Text,
        recorded_at -> Timestamp,
    }
}

diesel::table! {
    rater_feedback (rater_id) {
        rater_id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        strengths -> Text,
        development_areas -> Text,
        comments -> Nullable<Text>,
        submitted_at -> Timestamp,
    }
}

diesel::table! {
    rater_invitations (token_hash) {
        token_hash -> Text,
        rater_id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    themes (id) {
        id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        kind -> Text,
        title -> Text,
        description -> Nullable<Text>,
        released_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deleted_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    designs (engagement_id, version) {
        engagement_id -> Text,
        organization_id -> Text,
        version -> Integer,
        status -> Text,
        summary -> Text,
        theme_ids -> Text,
        outcome_ids -> Text,
        items -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        submitted_at -> Nullable<Timestamp>,
        revision -> BigInt,
    }
}

diesel::table! {
    design_decisions (id) {
        id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        design_version -> Integer,
        approver_id -> Text,
        role -> Text,
        verdict -> Text,
        comment -> Nullable<Text>,
        decided_at -> Timestamp,
    }
}

diesel::table! {
    sessions (id) {
        id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        scheduled_at -> Timestamp,
        duration_minutes -> Integer,
        format -> Text,
        kind -> Text,
        status -> Text,
        agenda -> Nullable<Text>,
        check_in -> Nullable<Text>,
        progress_review -> Nullable<Text>,
        challenges -> Nullable<Text>,
        session_goals -> Nullable<Text>,
        action_plan -> Nullable<Text>,
        skill_building -> Nullable<Text>,
        reflection -> Nullable<Text>,
        next_steps -> Nullable<Text>,
        shared_summary -> Nullable<Text>,
        private_notes -> Nullable<Text>,
        notes_author -> Nullable<Text>,
        status_reason -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
        sequence -> Integer,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        plan_index -> Nullable<Integer>,
        plan_title -> Nullable<Text>,
        choice -> Nullable<Text>,
    }
}

diesel::table! {
    extensions (id) {
        id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        minutes -> BigInt,
        month -> Text,
        new_planned_end_date -> Nullable<Date>,
        reason -> Text,
        status -> Text,
        decided_by -> Nullable<Text>,
        decision_comment -> Nullable<Text>,
        requested_at -> Timestamp,
        decided_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    action_items (id) {
        id -> Text,
        engagement_id -> Text,
        organization_id -> Text,
        session_id -> Nullable<Text>,
        title -> Text,
        details -> Nullable<Text>,
        due_date -> Nullable<Date>,
        status -> Text,
        leader_note -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    reviews (engagement_id, kind) {
        engagement_id -> Text,
        kind -> Text,
        organization_id -> Text,
        narrative -> Text,
        outcomes -> Text,
        program_changes -> Nullable<Text>,
        achievements -> Nullable<Text>,
        next_step -> Nullable<Text>,
        renewal -> Text,
        recorded_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    idempotency_keys (actor, key) {
        actor -> Text,
        key -> Text,
        request_hash -> Text,
        status -> Nullable<Integer>,
        headers -> Nullable<Text>,
        body -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> Text,
        organization_id -> Text,
        url -> Text,
        description -> Nullable<Text>,
        event_types -> Text,
        enabled -> Integer,
        secret -> Text,
        previous_secret -> Nullable<Text>,
        previous_secret_expires_at -> Nullable<Timestamp>,
        failing_since -> Nullable<Timestamp>,
        disabled_reason -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> Text,
        webhook_id -> Text,
        organization_id -> Text,
        event_id -> Text,
        event_type -> Text,
        engagement_id -> Nullable<Text>,
        payload -> Text,
        status -> Text,
        attempts -> Integer,
        created_at -> Timestamp,
        last_attempt_at -> Nullable<Timestamp>,
        next_attempt_at -> Nullable<Timestamp>,
        delivered_at -> Nullable<Timestamp>,
        failed_at -> Nullable<Timestamp>,
        last_error -> Nullable<Text>,
    }
}

diesel::table! {
    webhook_attempts (id) {
        id -> Text,
        delivery_id -> Text,
        attempted_at -> Timestamp,
        response_status -> Nullable<Integer>,
        error -> Nullable<Text>,
        duration_ms -> BigInt,
    }
}

diesel::table! {
    page_links (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        organization_id -> Nullable<Text>,
        engagement_id -> Nullable<Text>,
        target -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    web_sessions (token_hash) {
        token_hash -> Text,
        user_id -> Text,
        organization_id -> Nullable<Text>,
        csrf_token -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::joinable!(users -> organizations (organization_id));
diesel::table! {
    program_templates (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        based_on_id -> Nullable<Text>,
        based_on_version -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    program_template_versions (template_id, version) {
        template_id -> Text,
        version -> BigInt,
        organization_id -> Text,
        name -> Text,
        description -> Nullable<Text>,
        definition -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    coaching_groups (id) {
        id -> Text,
        organization_id -> Text,
        kind -> Text,
        name -> Text,
        coach_id -> Text,
        sponsor_id -> Text,
        hr_partner_id -> Nullable<Text>,
        team_leader_id -> Nullable<Text>,
        max_participants -> Integer,
        monthly_hours_budget -> Double,
        start_date -> Date,
        planned_end_date -> Date,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
        contract_id -> Nullable<Text>,
    }
}

diesel::table! {
    group_members (id) {
        id -> Text,
        group_id -> Text,
        organization_id -> Text,
        user_id -> Text,
        joined_at -> Timestamp,
        left_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    group_sessions (id) {
        id -> Text,
        group_id -> Text,
        organization_id -> Text,
        scheduled_at -> Timestamp,
        duration_minutes -> Integer,
        format -> Text,
        status -> Text,
        agenda -> Nullable<Text>,
        shared_summary -> Nullable<Text>,
        private_notes -> Nullable<Text>,
        notes_author -> Nullable<Text>,
        status_reason -> Nullable<Text>,
        completed_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    group_attendance (session_id, user_id) {
        session_id -> Text,
        user_id -> Text,
        organization_id -> Text,
        attended -> Bool,
    }
}

diesel::table! {
    group_outcomes (id) {
        id -> Text,
        group_id -> Text,
        organization_id -> Text,
        participant_id -> Text,
        title -> Text,
        measure -> Nullable<Text>,
        baseline -> Nullable<Text>,
        target -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    group_action_items (id) {
        id -> Text,
        group_id -> Text,
        organization_id -> Text,
        participant_id -> Text,
        session_id -> Nullable<Text>,
        title -> Text,
        details -> Nullable<Text>,
        due_date -> Nullable<Date>,
        status -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    contracts (id) {
        id -> Text,
        organization_id -> Text,
        name -> Text,
        provider -> Nullable<Text>,
        start_date -> Date,
        end_date -> Date,
        bought_minutes -> BigInt,
        price_hundredths -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    calendar_feeds (user_id) {
        user_id -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    calendar_feeds,
    contracts,
    organizations,
    users,
    audit_events,
    instance_secrets,
    api_clients,
    outbox,
    sign_in_tokens,
    engagements,
    engagement_sponsors,
    engagement_transitions,
    events,
    context_meetings,
    outcomes,
    outcome_measurements,
    leader_interviews,
    raters,
    rater_interviews,
    rater_feedback,
    rater_invitations,
    themes,
    designs,
    design_decisions,
    sessions,
    extensions,
    action_items,
    reviews,
    idempotency_keys,
    webhooks,
    webhook_deliveries,
    webhook_attempts,
    page_links,
    web_sessions,
    program_templates,
    program_template_versions,
    coaching_groups,
    group_members,
    group_sessions,
    group_attendance,
    group_outcomes,
    group_action_items
);
