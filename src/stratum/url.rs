//! Pool URLs: `stratum+tcp://host:port`, `stratum+ssl://` / `stratum+tls://` (TLS), and a bare
//! `host:port` (plain TCP), as miners accept them (`spec/stratum.md` §1).

use std::fmt;
use std::str::FromStr;

use thiserror::Error;

/// Why a pool URL cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not one of ours.
    #[error("unknown scheme {0:?} (use stratum+tcp://, stratum+ssl:// or stratum+tls://)")]
    Scheme(String),
    /// No `:port`.
    #[error("missing :port in {0:?}")]
    MissingPort(String),
    /// The port is not a number in 1..=65535.
    #[error("bad port {0:?}")]
    BadPort(String),
    /// No host.
    #[error("missing host in {0:?}")]
    MissingHost(String),
}

/// A parsed pool URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUrl {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Whether to speak TLS.
    pub tls: bool,
    /// `#xnsub` after the URL: send `mining.extranonce.subscribe` (opt-in, as lolMiner and
    /// NiceHash's convention: a pool that does not know the method may drop the connection).
    pub xnsub: bool,
}

impl FromStr for PoolUrl {
    type Err = UrlError;

    fn from_str(s: &str) -> Result<PoolUrl, UrlError> {
        let s = s.trim();
        let (s, xnsub) = match s.strip_suffix("#xnsub") {
            Some(rest) => (rest, true),
            None => (s, false),
        };
        let (tls, rest) = match s.split_once("://") {
            None => (false, s),
            Some(("stratum+tcp" | "stratum" | "tcp", r)) => (false, r),
            Some(("stratum+ssl" | "stratum+tls" | "ssl" | "tls", r)) => (true, r),
            Some((scheme, _)) => return Err(UrlError::Scheme(scheme.to_string())),
        };
        let rest = rest.trim_end_matches('/');
        let (host, port) = rest
            .rsplit_once(':')
            .ok_or_else(|| UrlError::MissingPort(s.to_string()))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(UrlError::MissingHost(s.to_string()));
        }
        let port: u16 = port
            .parse()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| UrlError::BadPort(port.to_string()))?;
        Ok(PoolUrl {
            host: host.to_string(),
            port,
            tls,
            xnsub,
        })
    }
}

impl fmt::Display for PoolUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls {
            "stratum+ssl"
        } else {
            "stratum+tcp"
        };
        if self.host.contains(':') {
            write!(f, "{scheme}://[{}]:{}", self.host, self.port)?;
        } else {
            write!(f, "{scheme}://{}:{}", self.host, self.port)?;
        }
        if self.xnsub {
            f.write_str("#xnsub")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `#xnsub` opts in to `mining.extranonce.subscribe` (lolMiner's convention); it round-trips.
    #[test]
    fn xnsub_suffix_opts_in() {
        let u: PoolUrl = "stratum+tcp://pool.example:3333#xnsub".parse().unwrap();
        assert!(u.xnsub && !u.tls && u.port == 3333 && u.host == "pool.example");
        assert_eq!(u.to_string(), "stratum+tcp://pool.example:3333#xnsub");
        let plain: PoolUrl = "pool.example:3333".parse().unwrap();
        assert!(!plain.xnsub);
    }

    #[test]
    fn parses_the_forms_miners_accept() {
        let u: PoolUrl = "stratum+ssl://zelhash.auto.nicehash.com:443"
            .parse()
            .unwrap();
        assert!(u.tls);
        assert_eq!(u.port, 443);
        let u: PoolUrl = "stratum+tcp://127.0.0.1:3333".parse().unwrap();
        assert!(!u.tls);
        assert_eq!(u.to_string(), "stratum+tcp://127.0.0.1:3333");
        let u: PoolUrl = "flux.herominers.com:1200".parse().unwrap();
        assert_eq!(u.host, "flux.herominers.com");
        let u: PoolUrl = "stratum+tcp://[::1]:3333".parse().unwrap();
        assert_eq!(u.host, "::1");
        assert!(matches!(
            "http://x:1".parse::<PoolUrl>(),
            Err(UrlError::Scheme(_))
        ));
        assert!(matches!(
            "stratum+tcp://x".parse::<PoolUrl>(),
            Err(UrlError::MissingPort(_))
        ));
        assert!(matches!(
            "x:0".parse::<PoolUrl>(),
            Err(UrlError::BadPort(_))
        ));
        assert!(matches!(
            ":5".parse::<PoolUrl>(),
            Err(UrlError::MissingHost(_))
        ));
    }
}
