package service

import (
	"context"
	"errors"
	"slices"

	"webnet/internal/compliance"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Compliance rules are tenant administration (design.md §2): the customer's admins and
// staff/superusers see and manage them; no permission grants that. Their results are
// another matter: whoever may view a device sees its results (compliancerun.go).

// ComplianceRuleInput is the body of POST /api/compliance-rules/ (customer, name, kind,
// pattern and severity required) and of PATCH /api/compliance-rules/{id}/ (only the fields
// given change).
type ComplianceRuleInput struct {
	Customer    *int64  `json:"customer"`
	Name        *string `json:"name"`
	Description *string `json:"description"`
	// Platform limits the rule to one platform's devices; "" (the default) applies it to all.
	Platform *string `json:"platform"`
	Kind     *string `json:"kind"`
	Pattern  *string `json:"pattern"`
	Severity *string `json:"severity"`
	// BodyErr is what is wrong with the request's body, if anything; reported after the
	// authorization checks, so that a caller who may not manage rules learns nothing of it.
	BodyErr error `json:"-"`
}

// apply sets the given fields on r and validates the rule as it then is.
func (in ComplianceRuleInput) apply(r *webnet.ComplianceRule, f fieldErrors) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	set(&r.Name, in.Name)
	set(&r.Description, in.Description)
	set(&r.Platform, in.Platform)
	set(&r.Kind, in.Kind)
	set(&r.Pattern, in.Pattern)
	set(&r.Severity, in.Severity)
	f.checkName("name", r.Name)
	f.checkDescription("description", r.Description)
	if r.Platform != "" && !webnet.ValidPlatform(r.Platform) {
		f.add("platform", "Must be empty (every platform) or one of cisco_iosxe, arista_eos, juniper_junos.")
	}
	if !slices.Contains(compliance.Severities, r.Severity) {
		f.add("severity", "Must be one of low, medium, high, critical.")
	}
	if _, err := compliance.Compile(r.Kind, r.Pattern); err != nil {
		var ie *compliance.InvalidError
		if errors.As(err, &ie) {
			f.add(ie.Field, ie.Why)
		}
	}
}

// complianceRuleFields are a rule's audited fields.
func complianceRuleFields(r *webnet.ComplianceRule) map[string]any {
	return map[string]any{"name": r.Name, "description": r.Description, "platform": r.Platform, "kind": r.Kind,
		"pattern": r.Pattern, "severity": r.Severity}
}

// complianceRuleFor loads rule id for a caller who must administer its customer: not_found
// when it does not exist or the caller is no member of its customer, forbidden for a member
// who is not an admin (audited as denied when action is a mutation).
func (c *Core) complianceRuleFor(ctx context.Context, id int64, action string) (*webnet.ComplianceRule, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	r, err := c.db.Read().ComplianceRuleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := requireAdmin(g, r.CustomerID, "compliance rules"); err != nil {
		if webnet.ErrorCode(err) == webnet.ENotFound {
			return nil, notFoundErr("Compliance rule")
		}
		if action != "" {
			return nil, c.denied(ctx, entry{action: action, objectType: "compliance_rule", objectID: r.ID, customerID: r.CustomerID}, err)
		}
		return nil, err
	}
	return r, nil
}

// ListComplianceRules returns a page of the rules of the customers the caller administers
// (all for staff and superusers), optionally of one customer, filtered in the query. Any
// signed-in user may call it. Errors: unauthenticated.
func (c *Core) ListComplianceRules(ctx context.Context, customer *int64, page webnet.Page) ([]webnet.ComplianceRule, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListComplianceRules(ctx, g.AdminFilter("r.customer_id"), customer, page)
}

// GetComplianceRule returns one rule to an admin of its customer (or staff). Errors:
// unauthenticated, not_found, forbidden.
func (c *Core) GetComplianceRule(ctx context.Context, id int64) (*webnet.ComplianceRule, error) {
	return c.complianceRuleFor(ctx, id, "")
}

// CreateComplianceRule creates a rule with its audit record. The caller must administer the
// customer (or be staff). Errors: unauthenticated, not_found (customer), forbidden, invalid
// (also in.BodyErr, after the authorization checks), conflict (name taken).
func (c *Core) CreateComplianceRule(ctx context.Context, in ComplianceRuleInput) (*webnet.ComplianceRule, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	if in.Customer == nil {
		return nil, bodyErrFirst(in.BodyErr, webnet.Invalid("Invalid compliance rule.", map[string]string{"customer": "This field is required."}))
	}
	cid := *in.Customer
	if err := c.namedCustomer(ctx, g, cid); err != nil {
		return nil, err
	}
	e := entry{action: "compliance_rule.create", objectType: "compliance_rule", customerID: cid}
	if err := requireAdmin(g, cid, "compliance rules"); err != nil {
		return nil, c.denied(ctx, e, err)
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	now := c.clock.Now()
	r := &webnet.ComplianceRule{CustomerID: cid, CreatedAt: now, UpdatedAt: now}
	f := fieldErrors{}
	for field, v := range map[string]*string{"name": in.Name, "kind": in.Kind, "pattern": in.Pattern, "severity": in.Severity} {
		if v == nil {
			f.add(field, "This field is required.")
		}
	}
	in.apply(r, f)
	if err := f.err("Invalid compliance rule."); err != nil {
		return nil, err
	}
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateComplianceRule(ctx, r); err != nil {
			return err
		}
		e.objectID, e.repr, e.details = r.ID, r.Name, map[string]any{"after": complianceRuleFields(r)}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// UpdateComplianceRule changes the given fields of a rule, with its audit record; a change of
// its kind, pattern or platform forgets its results (they answered another question). A
// patch that changes nothing writes nothing. Admins of its customer and staff only. Errors:
// unauthenticated, not_found, forbidden, invalid (also in.BodyErr, after the authorization
// checks), conflict (name taken).
func (c *Core) UpdateComplianceRule(ctx context.Context, id int64, in ComplianceRuleInput) (*webnet.ComplianceRule, error) {
	r, err := c.complianceRuleFor(ctx, id, "compliance_rule.update")
	if err != nil {
		return nil, err
	}
	if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	f := fieldErrors{}
	if in.Customer != nil && *in.Customer != r.CustomerID {
		f.add("customer", "A compliance rule cannot move to another customer.")
	}
	before := *r
	in.apply(r, f)
	if err := f.err("Invalid compliance rule."); err != nil {
		return nil, err
	}
	details := changes(complianceRuleFields(&before), complianceRuleFields(r))
	if len(details) == 0 {
		return &before, nil
	}
	stale := r.Kind != before.Kind || r.Pattern != before.Pattern || r.Platform != before.Platform
	r.UpdatedAt = c.clock.Now()
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateComplianceRule(ctx, r); err != nil {
			return err
		}
		if stale {
			if err := tx.DeleteComplianceResultsOfRule(ctx, r.ID); err != nil {
				return err
			}
			details["results_cleared"] = true
		}
		return c.audit(ctx, tx, entry{action: "compliance_rule.update", objectType: "compliance_rule", objectID: r.ID, repr: r.Name,
			customerID: r.CustomerID, details: details})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DeleteComplianceRule deletes a rule and its results, with its audit record. Admins of its
// customer and staff only. Errors: unauthenticated, not_found, forbidden.
func (c *Core) DeleteComplianceRule(ctx context.Context, id int64) error {
	r, err := c.complianceRuleFor(ctx, id, "compliance_rule.delete")
	if err != nil {
		return err
	}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteComplianceRule(ctx, id); err != nil {
			return err
		}
		return c.audit(ctx, tx, entry{action: "compliance_rule.delete", objectType: "compliance_rule", objectID: r.ID, repr: r.Name,
			customerID: r.CustomerID, details: map[string]any{"before": complianceRuleFields(r)}})
	})
}
