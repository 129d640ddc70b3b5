use super::*;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2025-06-01 09:30:00 UTC);

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// (stdout, stderr) of a successful run.
fn run_ok(command: Command, stdin: &str, now: OffsetDateTime) -> (String, String) {
    let (mut out, mut err) = (Vec::new(), Vec::new());
    run(&command, &mut stdin.as_bytes(), &mut out, &mut err, now).unwrap();
    (
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

fn run_err(command: Command, stdin: &[u8]) -> ToolError {
    let mut sink = Vec::new();
    run(&command, &mut &stdin[..], &mut sink, &mut Vec::new(), NOW).unwrap_err()
}

fn add() -> Command {
    Command::Add {
        alg: None,
        publish: DEFAULT_PUBLISH,
    }
}

#[test]
fn arguments() {
    let parse = |list: &[&str]| parse_args(&args(list)).unwrap();
    assert_eq!(
        parse(&["generate"]),
        Command::Generate {
            alg: KeyAlgorithm::Es256
        }
    );
    assert_eq!(
        parse(&["generate", "--alg", "EdDSA"]),
        Command::Generate {
            alg: KeyAlgorithm::EdDsa
        }
    );
    for form in [&["add"][..], &["rotate"]] {
        assert_eq!(parse(form), add());
    }
    assert_eq!(
        parse(&["add", "--alg=ES256", "--publish-seconds", "900"]),
        Command::Add {
            alg: Some(KeyAlgorithm::Es256),
            publish: Duration::seconds(900)
        }
    );
    assert_eq!(
        parse(&["promote", "k1"]),
        Command::Promote { kid: "k1".into() }
    );
    assert_eq!(
        parse(&["retire", "k1"]),
        Command::Retire { kid: "k1".into() }
    );
    assert_eq!(
        parse(&["prune", "--retention-seconds=1800"]),
        Command::Prune {
            retention: Duration::seconds(1800)
        }
    );
    assert_eq!(parse(&["list"]), Command::List);
    assert_eq!(parse(&["jwks"]), Command::Jwks);
    assert_eq!(parse(&["phone-keys", "rotate"]), Command::PhoneKeysRotate);
    for bad in [
        &[][..],
        &["rotate", "now"],
        &["destroy"],
        &["generate", "--alg", "RS256"],
        &["generate", "--alg"],
        &["add", "--publish-seconds", "-1"],
        &["add", "--alg", "ES256", "--alg", "EdDSA"],
        &["promote"],
        &["retire"],
        &["retire", "--older-than-days", "30"],
        &["prune", "--retention-seconds", "ten"],
        &["phone-keys"],
        &["phone-keys", "rotate", "now"],
    ] {
        let error = parse_args(&args(bad)).unwrap_err();
        assert!(matches!(error, ToolError::Usage(_)), "{bad:?}");
        assert_eq!(error.exit_code(), ExitCode::from(2));
        assert!(error.to_string().contains("usage:"), "{error}");
    }
}

/// The documented rotation, step by step, on a clock of its own: the new
/// key is published before it signs, the old one stays published until no
/// token it signed can be valid.
#[test]
fn the_documented_rotation_never_leaves_a_token_unverifiable() {
    let start = NOW - Duration::days(40);
    let (generated, note) = run_ok(
        Command::Generate {
            alg: KeyAlgorithm::EdDsa,
        },
        "",
        start,
    );
    let first = KeySet::parse(&generated).unwrap();
    let old = first.latest().kid().to_owned();
    assert!(note.contains(&old), "{note}");

    // add: published now, signing an hour later; same kind as the signer
    // unless asked otherwise.
    let (added, note) = run_ok(
        Command::Add {
            alg: Some(KeyAlgorithm::Es256),
            publish: DEFAULT_PUBLISH,
        },
        &generated,
        NOW,
    );
    let second = KeySet::parse(&added).unwrap();
    let new = second.latest().kid().to_owned();
    assert!(note.contains("pending ES256"), "{note}");
    assert_eq!(second.signer_at(NOW).unwrap().kid(), old);
    assert_eq!(
        second
            .signer_at(NOW + DEFAULT_PUBLISH - Duration::SECOND)
            .unwrap()
            .kid(),
        old
    );
    assert_eq!(second.signer_at(NOW + DEFAULT_PUBLISH).unwrap().kid(), new);
    let jwks: serde_json::Value =
        serde_json::from_str(&run_ok(Command::Jwks, &added, NOW).0).unwrap();
    assert_eq!(
        jwks["keys"].as_array().unwrap().len(),
        2,
        "published before it signs"
    );

    let (listing, _) = run_ok(Command::List, &added, NOW);
    assert!(
        listing.contains("pending") && listing.contains("active"),
        "{listing}"
    );

    // Pruning right after the switch keeps the old key; an hour later not.
    let switch = NOW + DEFAULT_PUBLISH;
    let prune = || Command::Prune {
        retention: DEFAULT_RETENTION,
    };
    let (kept, _) = run_ok(prune(), &added, switch + Duration::minutes(59));
    assert_eq!(KeySet::parse(&kept).unwrap().keys().len(), 2);
    let (pruned, note) = run_ok(prune(), &added, switch + DEFAULT_RETENTION);
    let third = KeySet::parse(&pruned).unwrap();
    assert_eq!(third.keys().len(), 1);
    assert_eq!(third.latest().kid(), new);
    assert!(note.contains(&old), "{note}");
}

#[test]
fn promotion_and_retirement_follow_the_lifecycle() {
    let (generated, _) = run_ok(
        Command::Generate {
            alg: KeyAlgorithm::Es256,
        },
        "",
        NOW - Duration::days(1),
    );
    let (added, _) = run_ok(add(), &generated, NOW);
    let new = KeySet::parse(&added).unwrap().latest().kid().to_owned();
    let error = {
        let mut sink = Vec::new();
        let command = Command::Promote { kid: new.clone() };
        run(
            &command,
            &mut added.as_bytes(),
            &mut sink,
            &mut Vec::new(),
            NOW + Duration::minutes(5),
        )
        .unwrap_err()
    };
    assert!(error.to_string().contains("may sign from"), "{error}");
    let later = NOW + Duration::minutes(10);
    let (promoted, _) = run_ok(Command::Promote { kid: new.clone() }, &added, later);
    assert_eq!(
        KeySet::parse(&promoted)
            .unwrap()
            .signer_at(later)
            .unwrap()
            .kid(),
        new
    );

    let signer_error = {
        let mut sink = Vec::new();
        let command = Command::Retire { kid: new.clone() };
        run(
            &command,
            &mut promoted.as_bytes(),
            &mut sink,
            &mut Vec::new(),
            later,
        )
        .unwrap_err()
    };
    assert!(
        signer_error.to_string().contains("promote another"),
        "{signer_error}"
    );

    let (cancelled, _) = run_ok(Command::Retire { kid: new.clone() }, &added, NOW);
    let set = KeySet::parse(&cancelled).unwrap();
    assert_ne!(set.signer_at(NOW + Duration::days(1)).unwrap().kid(), new);

    let too_soon = run_err(
        Command::Add {
            alg: None,
            publish: Duration::seconds(60),
        },
        generated.as_bytes(),
    );
    assert!(matches!(too_soon, ToolError::Usage(_)), "{too_soon:?}");
}

#[test]
fn phone_keys_generate_and_rotate() {
    let (generated, note) = run_ok(Command::PhoneKeysGenerate, "", NOW - Duration::days(40));
    let first = PhoneKeys::parse(&generated).unwrap();
    assert!(note.contains(first.current_kid()), "{note}");
    assert!(!note.contains("lookup_key"), "{note}");

    let (rotated, note) = run_ok(Command::PhoneKeysRotate, &generated, NOW);
    let second = PhoneKeys::parse(&rotated).unwrap();
    assert_eq!(second.kids().len(), 2);
    assert_ne!(second.current_kid(), first.current_kid());
    assert!(second.kids().contains(&first.current_kid()));
    assert!(note.contains("2 encryption keys"), "{note}");

    // The lookup key is carried over unchanged.
    let lookup =
        |json: &str| serde_json::from_str::<serde_json::Value>(json).unwrap()["lookup_key"].clone();
    assert_eq!(lookup(&rotated), lookup(&generated));

    // A signing key set is not a phone key set, and the reverse.
    let (signing, _) = run_ok(
        Command::Generate {
            alg: KeyAlgorithm::Es256,
        },
        "",
        NOW,
    );
    let error = run_err(Command::PhoneKeysRotate, signing.as_bytes());
    assert!(
        error.to_string().contains("invalid phone key set"),
        "{error}"
    );
    let error = run_err(add(), generated.as_bytes());
    assert!(error.to_string().contains("invalid key set"), "{error}");
    for (stdin, expected) in [(&b""[..], "got nothing"), (b"not json", "not JSON")] {
        let error = run_err(Command::PhoneKeysRotate, stdin);
        assert!(matches!(error, ToolError::Input(_)), "{error:?}");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[test]
fn bad_input_is_a_clear_error_not_a_panic() {
    let big = vec![b' '; MAX_INPUT_BYTES + 10];
    let cases: [(&[u8], &str); 5] = [
        (b"", "got nothing"),
        (b"  \n", "got nothing"),
        (b"{\"keys\": []}", "no keys"),
        (b"not json", "not JSON"),
        (b"\xff\xfe", "UTF-8"),
    ];
    for (stdin, expected) in cases {
        for command in [
            add(),
            Command::Jwks,
            Command::List,
            Command::Prune {
                retention: DEFAULT_RETENTION,
            },
        ] {
            let error = run_err(command, stdin);
            assert!(matches!(error, ToolError::Input(_)), "{error:?}");
            assert_eq!(error.exit_code(), ExitCode::from(2));
            assert!(error.to_string().contains(expected), "{error}");
        }
    }
    assert!(run_err(add(), &big).to_string().contains("larger"));
}
