package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

const complianceRuleColumns = `r.id, r.customer_id, r.name, r.description, r.platform, r.kind, r.pattern, r.severity,
	r.created_at, r.updated_at`

func scanComplianceRule(s scanner, r *webnet.ComplianceRule) error {
	if err := s.Scan(&r.ID, &r.CustomerID, &r.Name, &r.Description, &r.Platform, &r.Kind, &r.Pattern, &r.Severity,
		&r.CreatedAt, &r.UpdatedAt); err != nil {
		return err
	}
	r.CreatedAt, r.UpdatedAt = r.CreatedAt.UTC(), r.UpdatedAt.UTC()
	return nil
}

func complianceRuleWriteErr(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case isUniqueViolation(err):
		return &webnet.Error{Code: webnet.EConflict, Message: "A compliance rule with that name already exists in the customer.",
			Fields: map[string]string{"name": "Already taken."}}
	}
	return fmt.Errorf("%s compliance rule: %w", what, err)
}

// CreateComplianceRule inserts r and sets its ID.
func (tx *Tx) CreateComplianceRule(ctx context.Context, r *webnet.ComplianceRule) error {
	err := tx.queryRow(ctx, `INSERT INTO compliance_rules (customer_id, name, description, platform, kind, pattern, severity,
		created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		r.CustomerID, r.Name, r.Description, r.Platform, r.Kind, r.Pattern, r.Severity, r.CreatedAt, r.UpdatedAt).Scan(&r.ID)
	return complianceRuleWriteErr(err, "insert")
}

// UpdateComplianceRule writes every column of r but its customer.
func (tx *Tx) UpdateComplianceRule(ctx context.Context, r *webnet.ComplianceRule) error {
	_, err := tx.exec(ctx, `UPDATE compliance_rules SET name = ?, description = ?, platform = ?, kind = ?, pattern = ?,
		severity = ?, updated_at = ? WHERE id = ?`, r.Name, r.Description, r.Platform, r.Kind, r.Pattern, r.Severity, r.UpdatedAt, r.ID)
	return complianceRuleWriteErr(err, "update")
}

// DeleteComplianceRule deletes a rule and (by cascade) its results.
func (tx *Tx) DeleteComplianceRule(ctx context.Context, id int64) error {
	_, err := tx.exec(ctx, `DELETE FROM compliance_rules WHERE id = ?`, id)
	return complianceRuleWriteErr(err, "delete")
}

// DeleteComplianceResultsOfRule forgets a rule's results (its meaning changed).
func (tx *Tx) DeleteComplianceResultsOfRule(ctx context.Context, ruleID int64) error {
	if _, err := tx.exec(ctx, `DELETE FROM compliance_results WHERE rule_id = ?`, ruleID); err != nil {
		return fmt.Errorf("delete results of compliance rule %d: %w", ruleID, err)
	}
	return nil
}

// ComplianceRuleByID returns one rule; callers authorize by its customer.
func (q Q) ComplianceRuleByID(ctx context.Context, id int64) (*webnet.ComplianceRule, error) {
	var r webnet.ComplianceRule
	if err := scanComplianceRule(q.queryRow(ctx, `SELECT `+complianceRuleColumns+` FROM compliance_rules r WHERE r.id = ?`, id), &r); err != nil {
		return nil, notFound(err, "Compliance rule")
	}
	return &r, nil
}

// ListComplianceRules returns a page of the rules admin allows (a filter on r.customer_id),
// optionally of one customer, by name.
func (q Q) ListComplianceRules(ctx context.Context, admin authz.Filter, customerID *int64, page webnet.Page) ([]webnet.ComplianceRule, int, error) {
	where, args, err := admin.Where()
	if err != nil {
		return nil, 0, err
	}
	if customerID != nil {
		where += " AND r.customer_id = ?"
		args = append(args, *customerID)
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*) FROM compliance_rules r WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count compliance rules: %w", err)
	}
	out, err := q.complianceRules(ctx, `SELECT `+complianceRuleColumns+` FROM compliance_rules r WHERE `+where+
		` ORDER BY r.name, r.id LIMIT ? OFFSET ?`, append(args, page.Limit, page.Offset)...)
	return out, total, err
}

// ComplianceRulesFor returns the rules of a customer that apply to a platform, by id.
func (q Q) ComplianceRulesFor(ctx context.Context, customerID int64, platform string) ([]webnet.ComplianceRule, error) {
	return q.complianceRules(ctx, `SELECT `+complianceRuleColumns+` FROM compliance_rules r
		WHERE r.customer_id = ? AND (r.platform = '' OR r.platform = ?) ORDER BY r.id`, customerID, platform)
}

func (q Q) complianceRules(ctx context.Context, query string, args ...any) ([]webnet.ComplianceRule, error) {
	rows, err := q.query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list compliance rules: %w", err)
	}
	defer rows.Close()
	out := []webnet.ComplianceRule{}
	for rows.Next() {
		var r webnet.ComplianceRule
		if err := scanComplianceRule(rows, &r); err != nil {
			return nil, fmt.Errorf("scan compliance rule: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ComplianceOutcome is one rule's result in a check.
type ComplianceOutcome struct {
	RuleID int64
	Passed bool
	Detail string
}

// ReplaceComplianceResults records a check of a device: its results become exactly
// outcomes (rules deleted since the check began are left out), and its check time now.
func (tx *Tx) ReplaceComplianceResults(ctx context.Context, d *webnet.Device, jobID *int64, at time.Time, outcomes []ComplianceOutcome) error {
	if _, err := tx.exec(ctx, `DELETE FROM compliance_results WHERE device_id = ?`, d.ID); err != nil {
		return fmt.Errorf("clear compliance results: %w", err)
	}
	for _, o := range outcomes {
		if _, err := tx.exec(ctx, `INSERT INTO compliance_results (device_id, rule_id, customer_id, job_id, passed, detail, checked_at)
			SELECT ?, r.id, r.customer_id, ?, ?, ?, ? FROM compliance_rules r WHERE r.id = ? AND r.customer_id = ?`,
			d.ID, jobID, o.Passed, o.Detail, at, o.RuleID, d.CustomerID); err != nil {
			return fmt.Errorf("record compliance result: %w", err)
		}
	}
	_, err := tx.exec(ctx, `INSERT INTO compliance_checks (device_id, customer_id, job_id, checked_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (device_id) DO UPDATE SET job_id = excluded.job_id, checked_at = excluded.checked_at`, d.ID, d.CustomerID, jobID, at)
	if err != nil {
		return fmt.Errorf("record compliance check: %w", err)
	}
	return nil
}

// ListComplianceResults returns a page of the latest results on the devices visible allows
// (a device filter on d.customer_id and d.device_group_id), by device and rule name.
func (q Q) ListComplianceResults(ctx context.Context, visible authz.Filter, f webnet.ComplianceResultQuery, page webnet.Page) ([]webnet.ComplianceResult, int, error) {
	where, args, err := visible.Where()
	if err != nil {
		return nil, 0, err
	}
	for _, c := range []struct {
		col string
		v   *int64
	}{{"x.customer_id", f.CustomerID}, {"x.device_id", f.DeviceID}, {"x.rule_id", f.RuleID}} {
		if c.v != nil {
			where += " AND " + c.col + " = ?"
			args = append(args, *c.v)
		}
	}
	if f.Passed != nil {
		where += " AND x.passed = ?"
		args = append(args, *f.Passed)
	}
	from := ` FROM compliance_results x JOIN devices d ON d.id = x.device_id JOIN compliance_rules r ON r.id = x.rule_id WHERE `
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(*)`+from+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count compliance results: %w", err)
	}
	rows, err := q.query(ctx, `SELECT x.device_id, d.name, x.rule_id, r.name, r.severity, x.customer_id, x.job_id, x.passed,
		x.detail, x.checked_at`+from+where+` ORDER BY d.name, r.name, x.device_id, x.rule_id LIMIT ? OFFSET ?`,
		append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("list compliance results: %w", err)
	}
	defer rows.Close()
	out := []webnet.ComplianceResult{}
	for rows.Next() {
		var r webnet.ComplianceResult
		var job sql.NullInt64
		if err := rows.Scan(&r.DeviceID, &r.DeviceName, &r.RuleID, &r.RuleName, &r.Severity, &r.CustomerID, &job, &r.Passed,
			&r.Detail, &r.CheckedAt); err != nil {
			return nil, 0, fmt.Errorf("scan compliance result: %w", err)
		}
		r.JobID, r.CheckedAt = nullInt(job), r.CheckedAt.UTC()
		out = append(out, r)
	}
	return out, total, rows.Err()
}

// ComplianceSummaries returns a page of per-customer summaries (webnet.ComplianceSummary)
// over the devices visible allows (a device filter on d.customer_id and d.device_group_id),
// one per customer with such a device, by customer id; customerID limits it to one.
func (q Q) ComplianceSummaries(ctx context.Context, visible authz.Filter, customerID *int64, page webnet.Page) ([]webnet.ComplianceSummary, int, error) {
	where, args, err := visible.Where()
	if err != nil {
		return nil, 0, err
	}
	if customerID != nil {
		where += " AND d.customer_id = ?"
		args = append(args, *customerID)
	}
	var total int
	if err := q.queryRow(ctx, `SELECT COUNT(DISTINCT d.customer_id) FROM devices d WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count compliance summaries: %w", err)
	}
	rows, err := q.query(ctx, `SELECT d.customer_id, COUNT(*),
		SUM(CASE WHEN c.device_id IS NULL THEN 1 ELSE 0 END),
		SUM(CASE WHEN EXISTS (SELECT 1 FROM compliance_results x WHERE x.device_id = d.id AND NOT x.passed) THEN 1 ELSE 0 END)
		FROM devices d LEFT JOIN compliance_checks c ON c.device_id = d.id
		WHERE `+where+` GROUP BY d.customer_id ORDER BY d.customer_id LIMIT ? OFFSET ?`, append(args, page.Limit, page.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("compliance summaries: %w", err)
	}
	out := []webnet.ComplianceSummary{}
	for rows.Next() {
		s := webnet.ComplianceSummary{Rules: []webnet.ComplianceRuleSummary{}}
		if err := rows.Scan(&s.CustomerID, &s.Devices, &s.Unchecked, &s.NonCompliant); err != nil {
			rows.Close()
			return nil, 0, fmt.Errorf("scan compliance summary: %w", err)
		}
		s.Compliant = s.Devices - s.Unchecked - s.NonCompliant
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := q.summarizeRules(ctx, where, args, out); err != nil {
		return nil, 0, err
	}
	return out, total, nil
}

// summarizeRules fills the rule counts and last check times of the summaries over the
// devices of where: one query for the rules of all of them, one per customer for its last
// check (an aggregate over a time column would not scan as a time on SQLite).
func (q Q) summarizeRules(ctx context.Context, where string, args []any, sums []webnet.ComplianceSummary) error {
	if len(sums) == 0 {
		return nil
	}
	byCustomer := map[int64]*webnet.ComplianceSummary{}
	ids := make([]int64, len(sums))
	for i := range sums {
		byCustomer[sums[i].CustomerID], ids[i] = &sums[i], sums[i].CustomerID
	}
	for _, s := range sums {
		var last time.Time
		err := q.queryRow(ctx, `SELECT c.checked_at FROM compliance_checks c JOIN devices d ON d.id = c.device_id WHERE `+where+
			` AND d.customer_id = ? ORDER BY c.checked_at DESC LIMIT 1`, append(slices.Clone(args), s.CustomerID)...).Scan(&last)
		switch {
		case err == nil:
			last = last.UTC()
			byCustomer[s.CustomerID].LastCheckedAt = &last
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("last compliance check: %w", err)
		}
	}
	rows, err := q.query(ctx, `SELECT r.customer_id, r.id, r.name, r.severity, SUM(CASE WHEN x.passed THEN 1 ELSE 0 END),
		SUM(CASE WHEN x.passed THEN 0 ELSE 1 END)
		FROM compliance_results x JOIN devices d ON d.id = x.device_id JOIN compliance_rules r ON r.id = x.rule_id
		WHERE `+where+` AND d.customer_id IN (`+placeholders(len(ids))+`)
		GROUP BY r.customer_id, r.id, r.name, r.severity ORDER BY r.customer_id, r.name, r.id`,
		append(slices.Clone(args), int64Args(ids)...)...)
	if err != nil {
		return fmt.Errorf("compliance rule summaries: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var r webnet.ComplianceRuleSummary
		if err := rows.Scan(&cid, &r.RuleID, &r.Name, &r.Severity, &r.Passed, &r.Failed); err != nil {
			return fmt.Errorf("scan compliance rule summary: %w", err)
		}
		s := byCustomer[cid]
		s.Rules = append(s.Rules, r)
	}
	return rows.Err()
}
