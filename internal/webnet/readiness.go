package webnet

import "time"

// Readiness outcomes, of one check and of a whole readiness check (the worst of its checks,
// or skip when the device already runs the target version).
const (
	ReadinessPass = "pass"
	ReadinessWarn = "warn"
	ReadinessFail = "fail"
	ReadinessSkip = "skip"
)

// ReadinessCheck is one check of a readiness check: what was checked, its outcome and why.
type ReadinessCheck struct {
	Name   string `json:"name"`
	Status string `json:"status"`
	Reason string `json:"reason"`
}

// Readiness is the latest readiness check of a device.
type Readiness struct {
	DeviceID   int64 `json:"device"`
	CustomerID int64 `json:"customer"`
	// JobID is the readiness (or upgrade) job that checked, while it exists.
	JobID *int64 `json:"job"`
	// ImageID is the image the device was checked against (nil: none, or since deleted).
	ImageID   *int64           `json:"image"`
	Status    string           `json:"status"`
	Checks    []ReadinessCheck `json:"checks"`
	CheckedAt time.Time        `json:"checked_at"`
}

// ReadinessStatus is the outcome of a list of checks: fail if any failed, else skip if any
// says there is nothing to do, else warn if any warned, else pass.
func ReadinessStatus(checks []ReadinessCheck) string {
	has := map[string]bool{}
	for _, c := range checks {
		has[c.Status] = true
	}
	switch {
	case has[ReadinessFail]:
		return ReadinessFail
	case has[ReadinessSkip]:
		return ReadinessSkip
	case has[ReadinessWarn]:
		return ReadinessWarn
	}
	return ReadinessPass
}

// UpgradeSteps are the steps of an upgrade, in order (kinds.Upgrade documents each).
var UpgradeSteps = []string{"readiness", "copy", "verify", "set_boot", "save", "reload", "wait", "verify_version", "post_checks"}
