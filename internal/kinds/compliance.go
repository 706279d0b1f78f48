package kinds

import (
	"context"
	"fmt"
	"strings"
	"time"

	"webnet/internal/compliance"
	"webnet/internal/jobs"
	"webnet/internal/service"
	"webnet/internal/webnet"
)

// Compliance is the compliance kind (permission check_device_readiness): it reads the
// device's running configuration, evaluates every rule of the device's customer that applies
// to its platform (package compliance), and stores the results as the device's latest.
//
// The outcome is the compliance, not just the check: a target whose device fails any rule
// FAILS, its message naming the failing rules with their severities, so that a job over a
// group is partial exactly when some devices are not compliant, and retrying it re-checks
// those. A device that could not be checked (no connection, say) fails too, with that
// reason, and keeps its previous results. A device to which no rule applies is skipped and
// stays unchecked. A dry run evaluates and logs, and stores nothing.
func Compliance(cfg Config) jobs.Kind {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Minute
	}
	return jobs.Kind{Name: webnet.JobCompliance, Timeout: cfg.Timeout, Run: func(ctx context.Context, t *jobs.Target) error {
		sys := service.WithSubject(context.WithoutCancel(ctx), service.System())
		d := t.Device
		rules, err := cfg.Core.ComplianceRulesFor(sys, d.CustomerID, d.Platform)
		if err != nil {
			return err
		}
		if len(rules) == 0 {
			return jobs.Skipped(fmt.Sprintf("No compliance rule applies to %s devices of this customer.", d.Platform))
		}
		s, err := connect(ctx, cfg, t)
		if err != nil {
			return err
		}
		defer s.Close()
		config, err := s.RunningConfig(ctx, d.Platform)
		if err != nil {
			return fmt.Errorf("read the configuration: %w", err)
		}
		outcomes, failed := evaluate(t, rules, config)
		if !t.Job.DryRun {
			if err := cfg.Core.RecordComplianceCheck(sys, d.ID, &t.Job.ID, outcomes); err != nil {
				return err
			}
		}
		stored := ""
		if t.Job.DryRun {
			stored = " (dry run: results not stored)"
		}
		if len(failed) > 0 {
			return fmt.Errorf("not compliant: %d of %d rules failed: %s%s", len(failed), len(rules), strings.Join(failed, ", "), stored)
		}
		t.Result(fmt.Sprintf("Compliant: all %d rules passed%s.", len(rules), stored))
		return nil
	}}
}

// evaluate applies rules to config, logging each result, and returns the outcomes and the
// failing rules as "name (severity)".
func evaluate(t *jobs.Target, rules []webnet.ComplianceRule, config string) ([]service.ComplianceOutcome, []string) {
	var outcomes []service.ComplianceOutcome
	var failed []string
	for _, r := range rules {
		m, err := compliance.Compile(r.Kind, r.Pattern)
		if err != nil {
			// Rules are checked when saved; one that no longer compiles fails rather than
			// passing unseen.
			outcomes = append(outcomes, service.ComplianceOutcome{RuleID: r.ID, Detail: "The rule cannot be evaluated: " + err.Error()})
			failed = append(failed, fmt.Sprintf("%s (%s)", r.Name, r.Severity))
			continue
		}
		o := m.Evaluate(config)
		outcomes = append(outcomes, service.ComplianceOutcome{RuleID: r.ID, Passed: o.Passed, Detail: o.Detail})
		if o.Passed {
			t.Infof("Rule %q passed: %s", r.Name, o.Detail)
			continue
		}
		failed = append(failed, fmt.Sprintf("%s (%s)", r.Name, r.Severity))
		if r.Severity == "high" || r.Severity == "critical" {
			t.Errorf("Rule %q (%s) failed: %s", r.Name, r.Severity, o.Detail)
		} else {
			t.Warnf("Rule %q (%s) failed: %s", r.Name, r.Severity, o.Detail)
		}
	}
	return outcomes, failed
}
