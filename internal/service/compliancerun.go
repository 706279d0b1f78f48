package service

import (
	"context"

	"webnet/internal/authz"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Compliance checks are part of readiness (design.md §4: "readiness … compliance rules"), so
// running one needs check_device_readiness, like a readiness job, and denials answer with
// its sentence. Results are shown to whoever may view the device: they say which rule passed
// or failed where (line numbers), never the configuration's text.

// ComplianceRunRequest is the body of POST /api/compliance/run/: a device group (its devices
// now) or a list of devices, not both.
type ComplianceRunRequest struct {
	DeviceGroup *int64  `json:"device_group"`
	Devices     []int64 `json:"devices"`
	// DryRun evaluates and logs the results without storing them.
	DryRun bool `json:"dry_run"`
	// BodyErr is what is wrong with the body, reported after the visibility and permission
	// checks on what it names.
	BodyErr error `json:"-"`
}

// RunCompliance creates compliance jobs, all or nothing like the bulk custom actions: for a
// device group, the group must be visible (not_found, audited) and the caller must hold
// check_device_readiness on it (forbidden, audited); then every device of the group now is
// checked by RunAction, which audits the request with the job. Errors: unauthenticated,
// invalid (also req.BodyErr, after those checks; an empty group), not_found, forbidden,
// conflict (a device busy with another job).
func (c *Core) RunCompliance(ctx context.Context, req ComplianceRunRequest) ([]*webnet.Job, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	bodyErr := req.BodyErr
	if req.DeviceGroup == nil {
		if bodyErr == nil && len(req.Devices) == 0 {
			bodyErr = webnet.Invalid("Nothing to check.", map[string]string{"device_group": "Give a device group or a list of devices."})
		}
		return c.RunAction(ctx, ActionCompliance, ActionRequest{Devices: req.Devices, DryRun: req.DryRun, BodyErr: bodyErr})
	}
	e := entry{action: "device." + webnet.JobCompliance, objectType: "device_group", objectID: *req.DeviceGroup}
	dg, err := c.db.Read().DeviceGroupByID(ctx, *req.DeviceGroup)
	if err != nil || !g.SeesDeviceGroup(dg.CustomerID, dg.ID) {
		return nil, c.denied(ctx, e, &webnet.Error{Code: webnet.ENotFound, Message: "Device group not found.",
			Fields: map[string]string{"device_group": "No such device group."}})
	}
	e.repr, e.customerID = dg.Name, dg.CustomerID
	if !g.Can(ActionCompliance.Perm, authz.Target{CustomerID: dg.CustomerID, DeviceGroupID: dg.ID}) {
		return nil, c.denied(ctx, e, forbidden("%s", ActionCompliance.Sentence))
	}
	if bodyErr != nil {
		return nil, bodyErr
	}
	if len(req.Devices) > 0 {
		return nil, webnet.Invalid("Give a device group or a list of devices, not both.", map[string]string{"devices": "Leave out with a device group."})
	}
	devices, err := c.db.Read().DevicesInGroup(ctx, dg.ID)
	if err != nil {
		return nil, err
	}
	if len(devices) == 0 {
		return nil, webnet.Invalid("The device group has no devices.", map[string]string{"device_group": "No devices to check."})
	}
	ids := make([]int64, len(devices))
	for i, d := range devices {
		ids[i] = d.ID
	}
	return c.RunAction(ctx, ActionCompliance, ActionRequest{Devices: ids, DryRun: req.DryRun,
		Params: map[string]any{"device_group": dg.ID}})
}

// ComplianceRulesFor returns a customer's rules that apply to a platform, for the worker
// that checks a device. Only the system subject may call it. Errors: unauthenticated,
// forbidden.
func (c *Core) ComplianceRulesFor(ctx context.Context, customerID int64, platform string) ([]webnet.ComplianceRule, error) {
	if err := requireSystemSubject(ctx, "read compliance rules for a check"); err != nil {
		return nil, err
	}
	return c.db.Read().ComplianceRulesFor(ctx, customerID, platform)
}

// ComplianceOutcome is one rule's result in a check of a device.
type ComplianceOutcome struct {
	RuleID int64
	Passed bool
	Detail string
}

// RecordComplianceCheck stores a check of a device by a job: its results become exactly
// outcomes (a rule deleted while the check ran is left out), checked now. Only the system
// subject (a worker) may call it. Errors: unauthenticated, forbidden, not_found (device).
func (c *Core) RecordComplianceCheck(ctx context.Context, deviceID int64, jobID *int64, outcomes []ComplianceOutcome) error {
	if err := requireSystemSubject(ctx, "record compliance results"); err != nil {
		return err
	}
	d, err := c.db.Read().DeviceByID(ctx, deviceID)
	if err != nil {
		return err
	}
	rows := make([]store.ComplianceOutcome, len(outcomes))
	for i, o := range outcomes {
		rows[i] = store.ComplianceOutcome(o)
	}
	now := c.clock.Now()
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		return tx.ReplaceComplianceResults(ctx, d, jobID, now, rows)
	})
}

// ListComplianceResults returns a page of the latest results on the devices the caller may
// view, filtered in the query. Errors: unauthenticated.
func (c *Core) ListComplianceResults(ctx context.Context, q webnet.ComplianceResultQuery, page webnet.Page) ([]webnet.ComplianceResult, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ListComplianceResults(ctx, g.DeviceFilter(webnet.PermViewDevice, "d.customer_id", "d.device_group_id"), q, page)
}

// ComplianceSummaries returns a page of per-customer compliance summaries over the devices
// the caller may view (customers where they see none are not listed), optionally of one
// customer. Errors: unauthenticated.
func (c *Core) ComplianceSummaries(ctx context.Context, customer *int64, page webnet.Page) ([]webnet.ComplianceSummary, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	return c.db.Read().ComplianceSummaries(ctx, g.DeviceFilter(webnet.PermViewDevice, "d.customer_id", "d.device_group_id"), customer, page)
}
