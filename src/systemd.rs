//! systemd units for `schedule install`: the oneshot rotation service (hardened, secrets
//! through `LoadCredential=`) and its timer, rendered as text from a few parameters.

use std::time::Duration;

/// Unit names.
pub const SERVICE: &str = "kubectl-jointoken-rotate.service";
/// Timer unit name.
pub const TIMER: &str = "kubectl-jointoken-rotate.timer";
/// The (service, timer) unit names of rotation `instance`: the default instance keeps
/// [`SERVICE`]/[`TIMER`]; another is `kubectl-jointoken-rotate@<instance>.service|timer`, so
/// `systemctl list-timers 'kubectl-jointoken-rotate*'` shows them all side by side.
pub fn unit_names(instance: &str) -> (String, String) {
    if instance == "default" {
        (SERVICE.to_string(), TIMER.to_string())
    } else {
        (
            format!("kubectl-jointoken-rotate@{instance}.service"),
            format!("kubectl-jointoken-rotate@{instance}.timer"),
        )
    }
}

/// Credential names the service loads (read from `$CREDENTIALS_DIRECTORY`).
pub const CRED_KUBECONFIG: &str = "kubeconfig";
/// The Vault token credential.
pub const CRED_VAULT_TOKEN: &str = "vault-token";
/// The Vault AppRole credentials (role id, secret id).
pub const CRED_VAULT_ROLE_ID: &str = "vault-role-id";
/// The AppRole secret id.
pub const CRED_VAULT_SECRET_ID: &str = "vault-secret-id";

/// The credential-store name of `credential` for unit `service` (`x.service` → `x.<credential>`).
///
/// A `LoadCredential=` whose source is an absolute path fails the unit when the file is
/// missing (`243/CREDENTIALS`, checked on systemd 252), so a unit that must work for token
/// *and* AppRole logins cannot name files only one of them has. A source without a `/` is a
/// credential *name*: systemd looks it up among the system credentials, then in
/// /etc/credstore/, /run/credstore/ and /usr/lib/credstore/, and skips it when it is found
/// nowhere — exactly "optional". The names carry the unit's name because the credential store
/// is shared by every service on the machine, and each rotation instance may log in as
/// someone else.
pub fn credstore_name(service: &str, credential: &str) -> String {
    format!("{}.{credential}", service.trim_end_matches(".service"))
}

/// What the units need.
#[derive(Clone, Debug)]
pub struct UnitParams {
    /// Absolute path of the kubectl-jointoken binary.
    pub exec: String,
    /// Absolute path of the config file.
    pub config: String,
    /// How often the timer fires.
    pub every: Duration,
    /// Random delay spread over the nodes.
    pub randomized_delay: Duration,
    /// Longest a run may take.
    pub timeout: Duration,
    /// Admin kubeconfig loaded as a credential.
    pub kubeconfig_credential: String,
    /// Vault token file loaded as a credential (an explicit path, which must exist); `None`:
    /// the optional credential-store name ([`credstore_name`]).
    pub vault_token_credential: Option<String>,
    /// The rotation instance (names the units).
    pub instance: String,
}

/// `OnCalendar=` for an interval that divides a day (hours) or an hour (minutes).
///
/// `00/8:00:00` means hours 0, 8, 16; the popular `0:0/8` would be every 8 *minutes* of the
/// midnight hour — the bug this function exists to avoid.
pub fn on_calendar(every: Duration) -> Result<String, String> {
    let secs = every.as_secs();
    let bad = || {
        format!(
            "--every {}: choose an interval that divides a day (1h, 2h, 3h, 4h, 6h, 8h, 12h, 24h) or an hour (1m … 30m)",
            crate::duration::format_go(every)
        )
    };
    if secs == 0 || every.subsec_nanos() != 0 || !secs.is_multiple_of(60) {
        return Err(bad());
    }
    let mins = secs / 60;
    if mins.is_multiple_of(60) {
        let h = mins / 60;
        if h == 24 {
            Ok("*-*-* 00:00:00".into())
        } else if 24u64.is_multiple_of(h) {
            Ok(format!("*-*-* 00/{h}:00:00"))
        } else {
            Err(bad())
        }
    } else if 60u64.is_multiple_of(mins) {
        Ok(format!("*-*-* *:00/{mins}:00"))
    } else {
        Err(bad())
    }
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

/// The oneshot service. Hardening keeps `systemd-analyze security` at or below 2.0: no
/// capabilities, a dynamic user, read-only system, private /tmp, a system-call allow list;
/// the kubeconfig and Vault token come in as credentials, never as environment variables.
pub fn service(p: &UnitParams) -> String {
    let mut creds = format!(
        "LoadCredential={CRED_KUBECONFIG}:{}\n",
        p.kubeconfig_credential
    );
    let (service, _) = unit_names(&p.instance);
    creds.push_str(
        "# Vault login, each optional: a name without / is looked up in /etc/credstore/,\n\
         # /run/credstore/, /usr/lib/credstore/ and skipped when missing; a /path must exist.\n",
    );
    for c in [CRED_VAULT_TOKEN, CRED_VAULT_ROLE_ID, CRED_VAULT_SECRET_ID] {
        let source = match &p.vault_token_credential {
            Some(path) if c == CRED_VAULT_TOKEN => path.clone(),
            _ => credstore_name(&service, c),
        };
        creds.push_str(&format!("LoadCredential={c}:{source}\n"));
    }
    format!(
        "\
# Written by `kubectl jointoken schedule install`; `schedule uninstall` removes it.
[Unit]
Description=Rotate and publish the Kubernetes join token (kubectl-jointoken)
Documentation=man:kubectl-jointoken(1)
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
ExecStart={exec} schedule run --config {config}
TimeoutStartSec={timeout}
{creds}DynamicUser=yes
UMask=0077
NoNewPrivileges=yes
CapabilityBoundingSet=
AmbientCapabilities=
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateUsers=yes
ProtectHostname=yes
ProtectClock=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
RemoveIPC=yes
KeyringMode=private
DevicePolicy=closed
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
",
        exec = p.exec,
        config = p.config,
        timeout = secs(p.timeout),
    )
}

/// The timer: wall-clock cadence, catch-up after downtime, a per-node fixed random delay so
/// control-plane nodes do not all wake at once.
pub fn timer(p: &UnitParams) -> Result<String, String> {
    Ok(format!(
        "\
# Written by `kubectl jointoken schedule install`; `schedule uninstall` removes it.
[Unit]
Description=Rotate the Kubernetes join token every {every} (kubectl-jointoken)
Documentation=man:kubectl-jointoken(1)

[Timer]
OnCalendar={cal}
Persistent=true
RandomizedDelaySec={delay}
FixedRandomDelay=true
AccuracySec=1s
Unit={service}

[Install]
WantedBy=timers.target
",
        every = crate::duration::format_go(p.every),
        cal = on_calendar(p.every)?,
        delay = secs(p.randomized_delay),
        service = unit_names(&p.instance).0,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> UnitParams {
        UnitParams {
            exec: "/usr/bin/kubectl-jointoken".into(),
            config: "/etc/kubectl-jointoken/config.yaml".into(),
            every: Duration::from_secs(8 * 3600),
            randomized_delay: Duration::from_secs(300),
            timeout: Duration::from_secs(300),
            kubeconfig_credential: "/etc/kubernetes/admin.conf".into(),
            vault_token_credential: Some("/etc/kubectl-jointoken/vault-token".into()),
            instance: "default".into(),
        }
    }

    #[test]
    fn calendar_expressions() {
        let h = |n: u64| Duration::from_secs(n * 3600);
        assert_eq!(on_calendar(h(8)).unwrap(), "*-*-* 00/8:00:00");
        assert_eq!(on_calendar(h(1)).unwrap(), "*-*-* 00/1:00:00");
        assert_eq!(on_calendar(h(24)).unwrap(), "*-*-* 00:00:00");
        assert_eq!(
            on_calendar(Duration::from_secs(900)).unwrap(),
            "*-*-* *:00/15:00"
        );
        for bad in [h(5), h(7), h(48), Duration::from_secs(90), Duration::ZERO] {
            assert!(on_calendar(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn units_carry_credentials_not_environment() {
        let s = service(&params());
        assert!(s.contains("LoadCredential=kubeconfig:/etc/kubernetes/admin.conf\n"));
        assert!(s.contains("LoadCredential=vault-token:/etc/kubectl-jointoken/vault-token\n"));
        assert!(!s.contains("Environment"));
        assert!(s.contains("Type=oneshot\n"));
        let t = timer(&params()).unwrap();
        assert!(t.contains("OnCalendar=*-*-* 00/8:00:00\n"));
        assert!(t.contains("Persistent=true\n") && t.contains("FixedRandomDelay=true\n"));
    }
}
