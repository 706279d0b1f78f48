package webnet

import "time"

// ComplianceRule is one of a customer's configuration rules; package compliance says what its
// kinds mean and evaluates it.
type ComplianceRule struct {
	ID          int64  `json:"id"`
	CustomerID  int64  `json:"customer"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Platform limits the rule to one platform's devices; "" applies it to all.
	Platform  string    `json:"platform"`
	Kind      string    `json:"kind"`
	Pattern   string    `json:"pattern"`
	Severity  string    `json:"severity"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ComplianceResult is the latest result of one rule on one device.
type ComplianceResult struct {
	DeviceID   int64  `json:"device"`
	DeviceName string `json:"device_name"`
	RuleID     int64  `json:"rule"`
	RuleName   string `json:"rule_name"`
	Severity   string `json:"severity"`
	CustomerID int64  `json:"customer"`
	// JobID is the compliance job that checked, while it exists.
	JobID  *int64 `json:"job"`
	Passed bool   `json:"passed"`
	// Detail says where or why by line numbers and counts, never quoting the configuration.
	Detail    string    `json:"detail"`
	CheckedAt time.Time `json:"checked_at"`
}

// ComplianceResultQuery filters results; nil fields do not filter.
type ComplianceResultQuery struct {
	CustomerID, DeviceID, RuleID *int64
	Passed                       *bool
}

// ComplianceSummary is one customer's compliance over the devices a caller may view, from
// the latest results: a device is compliant when its last check found no rule failing,
// non-compliant when a rule failed, unchecked when never checked.
type ComplianceSummary struct {
	CustomerID    int64                   `json:"customer"`
	Devices       int                     `json:"devices"`
	Compliant     int                     `json:"compliant"`
	NonCompliant  int                     `json:"non_compliant"`
	Unchecked     int                     `json:"unchecked"`
	LastCheckedAt *time.Time              `json:"last_checked_at"`
	Rules         []ComplianceRuleSummary `json:"rules"`
}

// ComplianceRuleSummary counts one rule's latest results on the devices a caller may view.
type ComplianceRuleSummary struct {
	RuleID   int64  `json:"rule"`
	Name     string `json:"name"`
	Severity string `json:"severity"`
	Passed   int    `json:"passed"`
	Failed   int    `json:"failed"`
}
