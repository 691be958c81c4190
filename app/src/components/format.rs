//! Display formatting that must give the same text on the server and in the browser.

/// Unix seconds as `YYYY-MM-DD HH:MM UTC`; 0 or less as `never`.
pub fn unix_time(secs: i64) -> String {
    if secs <= 0 {
        return "never".to_owned();
    }
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        (rem % 3600) / 60
    )
}

/// Proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::unix_time;

    #[test]
    fn formats_known_instants() {
        assert_eq!(unix_time(0), "never");
        assert_eq!(unix_time(1), "1970-01-01 00:00 UTC");
        assert_eq!(unix_time(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(unix_time(1_764_300_000), "2025-11-28 03:20 UTC");
    }
}
