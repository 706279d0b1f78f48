package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// Config is webnet's whole configuration: one struct, read from flags whose defaults come from
// WEBNET_* variables, and passed down. Nothing reads the environment anywhere else.
type Config struct {
	DataDir         string
	DatabaseURL     string
	Listen          string
	LogFormat       string // auto, text or json
	LogLevel        string // debug, info, warn or error
	ShutdownTimeout time.Duration
	TrustedProxies  string // comma-separated CIDRs or addresses
	SessionIdle     time.Duration
	SessionAbsolute time.Duration
	LoginTokenTTL   time.Duration
	// SecretKey is WEBNET_SECRET_KEY: the credential encryption key(s), when not in the data
	// dir's secret.keys. Only from the environment, never a flag (flags show in ps).
	SecretKey string
	// Worker settings: NoWorker (serve only) leaves jobs to `webnet worker` processes;
	// WorkerOnly (the worker command) serves no HTTP.
	NoWorker          bool
	WorkerOnly        bool
	WorkerJobs        int
	WorkerConcurrency int
	JobLease          time.Duration
	BackupKeep        int
	BackupKeepFor     time.Duration
	// FirmwareMaxSize is the largest firmware image an upload may be, in bytes.
	FirmwareMaxSize int64
	// PublicURL is the base URL devices fetch firmware images from (signed URLs made by the
	// worker). Empty: serve derives it from the listen address when that names a host;
	// otherwise upgrades cannot hand out image URLs until it is set.
	PublicURL string

	workerSet bool    // the command has the worker flags
	envErrs   []error // WEBNET_* values that could not be parsed
}

// env returns the variable's value or def.
func env(getenv func(string) string, name, def string) string {
	if v := getenv(name); v != "" {
		return v
	}
	return def
}

// envDuration returns the variable's duration or def; a value that is not a duration is
// remembered and reported by validate.
func (c *Config) envDuration(getenv func(string) string, name string, def time.Duration) time.Duration {
	v := getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s: %q is not a duration (e.g. 90s, 8h)", name, v))
		return def
	}
	return d
}

// envInt returns the variable's integer or def; a value that is not one is reported by
// validate.
func (c *Config) envInt(getenv func(string) string, name string, def int) int {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s: %q is not a whole number", name, v))
		return def
	}
	return n
}

// envSize returns the variable's byte size (see parseSize) or def; a value that is not one is
// reported by validate.
func (c *Config) envSize(getenv func(string) string, name string, def int64) int64 {
	v := getenv(name)
	if v == "" {
		return def
	}
	n, err := parseSize(v)
	if err != nil {
		c.envErrs = append(c.envErrs, fmt.Errorf("%s: %w", name, err))
		return def
	}
	return n
}

// sizeUnits are the units parseSize knows: binary (KiB…) and decimal (KB…).
var sizeUnits = map[string]int64{"": 1, "B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30, "TiB": 1 << 40,
	"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12}

// parseSize reads a positive byte size: a whole number with an optional unit, "4GiB",
// "500 MB", "1048576".
func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	i := strings.IndexFunc(s, func(r rune) bool { return r < '0' || r > '9' })
	if i < 0 {
		i = len(s)
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	unit, ok := sizeUnits[strings.TrimSpace(s[i:])]
	if err != nil || !ok || n <= 0 || n > math.MaxInt64/unit {
		return 0, fmt.Errorf("%q is not a size (e.g. 4GiB, 500MB, 1048576)", s)
	}
	return n * unit, nil
}

// sizeFlag is a byte-size flag value.
type sizeFlag struct{ n *int64 }

func (f sizeFlag) String() string {
	if f.n == nil {
		return ""
	}
	return strconv.FormatInt(*f.n, 10)
}

func (f sizeFlag) Set(s string) error {
	n, err := parseSize(s)
	if err != nil {
		return err
	}
	*f.n = n
	return nil
}

// workerFlags registers the flags of the job worker (serve's embedded one and `webnet worker`).
func (c *Config) workerFlags(fs *flag.FlagSet, getenv func(string) string) {
	c.workerSet = true
	fs.IntVar(&c.WorkerJobs, "worker-jobs", c.envInt(getenv, "WEBNET_WORKER_JOBS", 16),
		"how many jobs this process's worker runs at once (WEBNET_WORKER_JOBS)")
	fs.IntVar(&c.WorkerConcurrency, "job-concurrency", c.envInt(getenv, "WEBNET_JOB_CONCURRENCY", 32),
		"how many devices of one job are worked on at once, unless the job says fewer (WEBNET_JOB_CONCURRENCY)")
	fs.DurationVar(&c.JobLease, "job-lease", c.envDuration(getenv, "WEBNET_JOB_LEASE", 30*time.Second),
		"a running job whose worker has not renewed it for this long is resumed by another worker (WEBNET_JOB_LEASE)")
	fs.IntVar(&c.BackupKeep, "backup-keep", c.envInt(getenv, "WEBNET_BACKUP_KEEP", 100),
		"configuration backups kept per device: the newest this many, ... (0: no count limit) (WEBNET_BACKUP_KEEP)")
	fs.DurationVar(&c.BackupKeepFor, "backup-keep-for", c.envDuration(getenv, "WEBNET_BACKUP_KEEP_FOR", 365*24*time.Hour),
		"... and any younger than this (0: no age limit; both 0: keep all) (WEBNET_BACKUP_KEEP_FOR)")
	fs.StringVar(&c.PublicURL, "public-url", env(getenv, "WEBNET_PUBLIC_URL", ""),
		"base URL devices fetch firmware images from, http(s)://host[:port]; serve's default is its listen address when that names a host (WEBNET_PUBLIC_URL)")
}

// storageFlags registers the flags every database-using command has.
func (c *Config) storageFlags(fs *flag.FlagSet, getenv func(string) string) {
	c.SecretKey = getenv("WEBNET_SECRET_KEY")
	fs.StringVar(&c.DataDir, "data-dir", env(getenv, "WEBNET_DATA_DIR", "./data"),
		"directory for the SQLite database, keys and firmware images (WEBNET_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", env(getenv, "WEBNET_DATABASE_URL", ""),
		"postgres://… to use PostgreSQL instead of SQLite in the data dir (WEBNET_DATABASE_URL)")
	fs.StringVar(&c.LogFormat, "log-format", env(getenv, "WEBNET_LOG_FORMAT", "auto"),
		"log format: auto (text on a terminal, JSON otherwise), text or json (WEBNET_LOG_FORMAT)")
	fs.StringVar(&c.LogLevel, "log-level", env(getenv, "WEBNET_LOG_LEVEL", "info"),
		"log level: debug, info, warn or error (WEBNET_LOG_LEVEL)")
}

// serveFlags registers the flags of the serve command.
func (c *Config) serveFlags(fs *flag.FlagSet, getenv func(string) string) {
	c.storageFlags(fs, getenv)
	fs.StringVar(&c.Listen, "listen", env(getenv, "WEBNET_LISTEN", "127.0.0.1:8080"),
		"address to listen on (WEBNET_LISTEN)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.envDuration(getenv, "WEBNET_SHUTDOWN_TIMEOUT", 15*time.Second),
		"how long in-flight requests may finish after SIGINT/SIGTERM (WEBNET_SHUTDOWN_TIMEOUT)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", env(getenv, "WEBNET_TRUSTED_PROXIES", ""),
		"comma-separated addresses or CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed (WEBNET_TRUSTED_PROXIES)")
	fs.DurationVar(&c.SessionIdle, "session-idle", c.envDuration(getenv, "WEBNET_SESSION_IDLE", 8*time.Hour),
		"browser sessions end after this long without activity (WEBNET_SESSION_IDLE)")
	fs.DurationVar(&c.SessionAbsolute, "session-absolute", c.envDuration(getenv, "WEBNET_SESSION_ABSOLUTE", 72*time.Hour),
		"browser sessions end this long after sign-in, whatever the activity (WEBNET_SESSION_ABSOLUTE)")
	fs.DurationVar(&c.LoginTokenTTL, "login-token-ttl", c.envDuration(getenv, "WEBNET_LOGIN_TOKEN_TTL", 30*24*time.Hour),
		"lifetime of tokens from POST /api/auth/token/; -1s for no expiry (WEBNET_LOGIN_TOKEN_TTL)")
	fs.BoolVar(&c.NoWorker, "no-worker", env(getenv, "WEBNET_NO_WORKER", "") == "true",
		"run no job worker in this process: jobs wait for a `webnet worker` (WEBNET_NO_WORKER=true)")
	c.FirmwareMaxSize = c.envSize(getenv, "WEBNET_FIRMWARE_MAX_SIZE", 4<<30)
	fs.Var(sizeFlag{&c.FirmwareMaxSize}, "firmware-max-size",
		"largest firmware image an upload may be, e.g. 4GiB or 500MB (WEBNET_FIRMWARE_MAX_SIZE)")
	c.workerFlags(fs, getenv)
}

// validate checks the parsed configuration.
func (c *Config) validate() error {
	errs := append([]error(nil), c.envErrs...)
	switch c.LogFormat {
	case "auto", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format: %q is not auto, text or json", c.LogFormat))
	}
	if _, err := parseLevel(c.LogLevel); err != nil {
		errs = append(errs, err)
	}
	if c.DatabaseURL == "" && c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir: must not be empty"))
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "postgres://") && !strings.HasPrefix(c.DatabaseURL, "postgresql://") {
		errs = append(errs, errors.New("--database-url: only postgres:// URLs are supported; leave it empty for SQLite"))
	}
	if _, err := c.trustedProxies(); err != nil {
		errs = append(errs, err)
	}
	if c.workerSet && (c.WorkerJobs < 1 || c.WorkerConcurrency < 1 || c.WorkerConcurrency > 256) {
		errs = append(errs, errors.New("--worker-jobs must be at least 1 and --job-concurrency between 1 and 256"))
	}
	if c.workerSet && (c.BackupKeep < 0 || c.BackupKeepFor < 0) {
		errs = append(errs, errors.New("--backup-keep and --backup-keep-for must not be negative"))
	}
	if c.workerSet && c.JobLease < 3*time.Second {
		errs = append(errs, errors.New("--job-lease must be at least 3s"))
	}
	if c.ShutdownTimeout < 0 || c.SessionIdle < 0 || c.SessionAbsolute < 0 {
		errs = append(errs, errors.New("durations must not be negative (except --login-token-ttl)"))
	}
	return errors.Join(errs...)
}

func (c *Config) trustedProxies() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, s := range strings.Split(c.TrustedProxies, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if p, err := netip.ParsePrefix(s); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(s)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %q is neither an address nor a CIDR", s)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}
