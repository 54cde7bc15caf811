//! Go duration syntax (`90s`, `2h30m`, `1.5h`, `0`), as kubeadm's `--ttl` and kubectl's
//! `--request-timeout` take it, plus kubeadm's short human rendering of a remaining TTL.

use std::time::Duration;

/// Parses a non-negative Go duration (`time.ParseDuration` without the sign).
/// A bare `0` is allowed, as in Go; any other number needs a unit.
pub fn parse_go(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    let bad = || format!("invalid duration {input:?}: use Go syntax such as 90s, 30m, 2h30m or 0");
    if s.is_empty() {
        return Err(bad());
    }
    if s.starts_with('-') {
        return Err(format!("invalid duration {input:?}: must not be negative"));
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total: f64 = 0.0;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        if num_len == 0 {
            return Err(bad());
        }
        let value: f64 = rest[..num_len].parse().map_err(|_| bad())?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let nanos_per = match &rest[..unit_len] {
            "ns" => 1.0,
            "us" | "µs" | "μs" => 1e3,
            "ms" => 1e6,
            "s" => 1e9,
            "m" => 60e9,
            "h" => 3600e9,
            _ => return Err(bad()),
        };
        total += value * nanos_per;
        rest = &rest[unit_len..];
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return Err(format!("invalid duration {input:?}: too large"));
    }
    Ok(Duration::from_nanos(total.round() as u64))
}

/// Renders a duration as Go's `time.Duration.String` does for whole seconds (`24h0m0s`, `1m30s`,
/// `0s`), which is how kubeadm prints a TTL.
pub fn format_go(d: Duration) -> String {
    let secs = d.as_secs();
    if secs == 0 {
        return "0s".into();
    }
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 {
        format!("{h}h{m}m{s}s")
    } else if m > 0 {
        format!("{m}m{s}s")
    } else {
        format!("{s}s")
    }
}

/// kubeadm's TTL column (apimachinery's `ShortHumanDuration`) for `seconds` until expiry:
/// `<invalid>` once more than a second past, then `0s`, `59s`, `59m`, `23h`, `364d`, `2y`.
pub fn short_human(seconds: i64) -> String {
    if seconds < -1 {
        "<invalid>".into()
    } else if seconds < 0 {
        "0s".into()
    } else if seconds < 60 {
        format!("{seconds}s")
    } else if seconds < 3600 {
        format!("{}m", seconds / 60)
    } else if seconds < 86400 {
        format!("{}h", seconds / 3600)
    } else if seconds < 86400 * 365 {
        format!("{}d", seconds / 86400)
    } else {
        format!("{}y", seconds / (86400 * 365))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_forms() {
        assert_eq!(parse_go("0").unwrap(), Duration::ZERO);
        assert_eq!(parse_go("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_go("2h30m").unwrap(), Duration::from_secs(9000));
        assert_eq!(parse_go("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_go("300ms").unwrap(), Duration::from_millis(300));
        assert_eq!(parse_go("1h0m0s").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_go("24h").unwrap(), Duration::from_secs(86400));
    }

    #[test]
    fn rejects_bad_durations() {
        for bad in ["", "10", "h", "1d", "-5m", "1h-", "abc", "5 m", ".s"] {
            assert!(parse_go(bad).is_err(), "{bad:?} should fail");
        }
        assert!(parse_go("-5m").unwrap_err().contains("negative"));
    }

    #[test]
    fn formats_like_go() {
        assert_eq!(format_go(Duration::from_secs(86400)), "24h0m0s");
        assert_eq!(format_go(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_go(Duration::from_secs(5)), "5s");
        assert_eq!(format_go(Duration::ZERO), "0s");
    }

    #[test]
    fn short_human_matches_apimachinery() {
        assert_eq!(short_human(-2), "<invalid>");
        assert_eq!(short_human(-1), "0s");
        assert_eq!(short_human(59), "59s");
        assert_eq!(short_human(60), "1m");
        assert_eq!(short_human(3599), "59m");
        assert_eq!(short_human(86399), "23h");
        assert_eq!(short_human(86400), "1d");
        assert_eq!(short_human(86400 * 365 * 2), "2y");
    }
}

#[cfg(test)]
mod props {
    use super::*;

    proptest::proptest! {
        #[test]
        fn parsing_never_panics(s in "\\PC{0,30}") {
            let _ = parse_go(&s);
        }

        #[test]
        // format_go renders whole seconds (how kubeadm prints a TTL).
        fn formatted_durations_parse_back(secs in 0u64..10_000_000) {
            let d = Duration::from_secs(secs);
            proptest::prop_assert_eq!(parse_go(&format_go(d)), Ok(d));
        }
    }
}
