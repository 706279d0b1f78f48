package service

import (
	"context"
	"fmt"

	"webnet/internal/authz"
	"webnet/internal/backup"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// Action is a custom action on devices: the job kind it starts, the permission it needs and
// the sentence a denial answers with (the same for one device and for many).
type Action struct {
	Kind     string
	Perm     webnet.Perm
	Sentence string
}

// The device actions that start jobs (design.md §2-§4).
var (
	ActionSync       = Action{webnet.JobSync, webnet.PermSyncDeviceInventory, "You do not have permission to sync device inventory"}
	ActionReadiness  = Action{webnet.JobReadiness, webnet.PermCheckDeviceReadiness, "You do not have permission to check device readiness"}
	ActionUpgrade    = Action{webnet.JobUpgrade, webnet.PermUpgradeDeviceFirmware, "You do not have permission to upgrade device firmware"}
	ActionConfigPush = Action{webnet.JobConfigPush, webnet.PermEditConfiguration, "You do not have permission to edit device configuration"}
	// ActionCompliance checks devices against their customer's compliance rules: a part of
	// readiness, with its permission and sentence.
	ActionCompliance = Action{webnet.JobCompliance, webnet.PermCheckDeviceReadiness, "You do not have permission to check device readiness"}
)

// ActionRequest asks for a custom action on devices.
type ActionRequest struct {
	Devices []int64
	Params  map[string]any
	DryRun  bool
	// Confirm is required for destructive actions that are not dry runs (upgrade).
	Confirm bool
	// BodyErr is what is wrong with the request's body, if anything: a field the action does
	// not take, a value of the wrong type, a missing parameter. RunAction reports it only
	// after the visibility and permission checks on the devices, so that a caller without the
	// permission never learns what a valid body would be (design.md §3: 404, 403, then 400).
	BodyErr error
	// RetryOf is the job whose failed targets this request retries.
	RetryOf *int64
}

// actions are the custom actions by job kind.
var actions = map[string]Action{ActionSync.Kind: ActionSync, ActionReadiness.Kind: ActionReadiness,
	ActionUpgrade.Kind: ActionUpgrade, ActionConfigPush.Kind: ActionConfigPush, ActionCompliance.Kind: ActionCompliance}

// RunAction checks the action on every device, all or nothing (not_found naming invisible
// ids, forbidden with the action's sentence naming the devices without the permission; every
// denial audited), then reports req.BodyErr if set, then creates one job per customer through
// the JobService in the same transaction as the audit record of the request. A device
// without a credential is accepted: its target fails in the job. Errors: unauthenticated,
// invalid, not_found, forbidden.
func (c *Core) RunAction(ctx context.Context, a Action, req ActionRequest) ([]*webnet.Job, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	e := entry{action: "device." + a.Kind, objectType: "device"}
	devices, err := c.devicesFor(ctx, g, req.Devices, a.Perm, a.Sentence, &e)
	if err != nil {
		return nil, bodyErrFirst(req.BodyErr, err)
	}
	if req.BodyErr != nil {
		return nil, req.BodyErr
	}
	if a.Kind == webnet.JobConfigPush {
		if err := checkPushParams(req.Params, devices); err != nil {
			return nil, err
		}
	}
	if err := c.checkImageRef(ctx, g, req.Params, devices); err != nil {
		return nil, err
	}
	if a.Kind == webnet.JobUpgrade && !req.DryRun && !req.Confirm {
		return nil, &webnet.Error{Code: webnet.EInvalid,
			Message: "Upgrading firmware needs confirm: true (or dry_run: true to see the plan).",
			Fields:  map[string]string{"confirm": "Set to true to upgrade these devices."},
			Extra:   map[string]any{"plan": c.upgradePlan(ctx, devices, req.Params)}}
	}
	byCustomer := map[int64][]int64{}
	var order []int64
	for _, d := range devices {
		if _, ok := byCustomer[d.CustomerID]; !ok {
			order = append(order, d.CustomerID)
		}
		byCustomer[d.CustomerID] = append(byCustomer[d.CustomerID], d.ID)
	}
	var requester *int64
	if sub := SubjectFrom(ctx); sub != nil && sub.User != nil {
		id := sub.User.ID
		requester = &id
	}
	var jobs []*webnet.Job
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		for _, cid := range order {
			j, err := c.jobs.CreateJob(ctx, tx, NewJob{CustomerID: cid, Kind: a.Kind, RequestedBy: requester,
				Params: req.Params, DryRun: req.DryRun, DeviceIDs: byCustomer[cid], RetryOf: req.RetryOf})
			if err != nil {
				return fmt.Errorf("create %s job: %w", a.Kind, err)
			}
			jobs = append(jobs, j)
			ae := entry{action: "device." + a.Kind, objectType: "job", objectID: j.ID, customerID: cid,
				repr:    fmt.Sprintf("%s of %d devices", a.Kind, len(byCustomer[cid])),
				details: map[string]any{"devices": byCustomer[cid], "dry_run": req.DryRun, "params": req.Params}}
			if req.RetryOf != nil {
				ae.details["retry_of"] = *req.RetryOf
			}
			if err := c.audit(ctx, tx, ae); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return jobs, nil
}

// checkPushParams checks a configuration push's text for every platform among devices
// (backup.CheckPush), so that a push no device could take is refused before it is queued.
// The worker checks again: a retried or scheduled push is checked when it runs too.
func checkPushParams(params map[string]any, devices []webnet.Device) error {
	text, ok := params["config"].(string)
	if !ok {
		return webnet.Invalid("Invalid configuration push.", map[string]string{"config": "This field is required: the configuration lines to push."})
	}
	checked := map[string]bool{}
	for _, d := range devices {
		if checked[d.Platform] {
			continue
		}
		checked[d.Platform] = true
		if why := backup.CheckPush(d.Platform, text); why != "" {
			return webnet.Invalid("Invalid configuration push.", map[string]string{"config": why})
		}
	}
	return nil
}

// DeviceAccess is the access explainer's answer: every permission on a device for a user,
// allowed or not, with the step and the grants that decided.
type DeviceAccess struct {
	Device      DeviceBrief         `json:"device"`
	User        UserBrief           `json:"user"`
	Visible     bool                `json:"visible"`
	Permissions []authz.Explanation `json:"permissions"`
}

// UserBrief names a user.
type UserBrief struct {
	ID       int64  `json:"id"`
	Username string `json:"username"`
}

// ExplainAccess explains every permission of a user on a device. The device's customer's
// admins and staff may ask; the user must be visible to them (a member of the device's
// customer, or anyone for staff). Errors: unauthenticated, not_found (device or user),
// forbidden (not an admin).
func (c *Core) ExplainAccess(ctx context.Context, deviceID, userID int64) (*DeviceAccess, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	q := c.db.Read()
	d, err := c.visibleDevice(ctx, q, g, deviceID)
	if err != nil {
		return nil, err
	}
	if !g.Admin(d.CustomerID) {
		return nil, forbidden("Only the customer's admins may explain access.")
	}
	u, err := q.UserByID(ctx, userID)
	if err != nil {
		return nil, notFoundErr("User")
	}
	if !g.Bypass() {
		if ok, err := q.InCustomer(ctx, "user", u.ID, d.CustomerID); err != nil || !ok {
			return nil, notFoundErr("User")
		}
	}
	ug, err := c.access.GrantsOf(ctx, u)
	if err != nil {
		return nil, err
	}
	t := authz.TargetOf(d)
	out := &DeviceAccess{Device: DeviceBrief{ID: d.ID, Name: d.Name}, User: UserBrief{ID: u.ID, Username: u.Username},
		Visible: ug.Visible(t)}
	for _, p := range webnet.Catalog {
		out.Permissions = append(out.Permissions, ug.Explain(p.Perm, t))
	}
	return out, nil
}

// checkImageRef checks the firmware image a readiness or upgrade request names, if any: it
// must be one the caller can see (else not_found, like the same image in a URL), and either
// global or of the devices' own customer.
func (c *Core) checkImageRef(ctx context.Context, g *authz.Grants, params map[string]any, devices []webnet.Device) error {
	raw, ok := params["image"]
	if !ok {
		return nil
	}
	var id int64
	switch v := raw.(type) {
	case int64:
		id = v
	case float64: // from a job's stored parameters (retry)
		id = int64(v)
	default:
		return webnet.Invalid("Invalid request.", map[string]string{"image": "Must be a firmware image id."})
	}
	img, err := c.imageFor(ctx, g, id, "")
	if err != nil {
		return &webnet.Error{Code: webnet.ENotFound, Message: "Firmware image not found.",
			Fields: map[string]string{"image": "No such firmware image."}}
	}
	if img.CustomerID == nil {
		return nil
	}
	for _, d := range devices {
		if d.CustomerID != *img.CustomerID {
			return webnet.Invalid("Invalid request.", map[string]string{
				"image": fmt.Sprintf("The image belongs to another customer than device %s; use one of its customer's images or a global one.", d.Name)})
		}
	}
	return nil
}

// upgradePlan is what an upgrade request would do, answered when it lacks confirm: the
// devices with the version each runs, the image, the steps each device goes through and the
// job's parameters.
func (c *Core) upgradePlan(ctx context.Context, devices []webnet.Device, params map[string]any) map[string]any {
	list := make([]map[string]any, len(devices))
	for i, d := range devices {
		list[i] = map[string]any{"id": d.ID, "name": d.Name, "platform": d.Platform, "version": d.OSVersion}
	}
	plan := map[string]any{"devices": list, "params": params, "steps": webnet.UpgradeSteps}
	if id, ok := params["image"].(int64); ok {
		if img, err := c.db.Read().FirmwareImageByID(ctx, id); err == nil {
			plan["image"] = map[string]any{"id": img.ID, "filename": img.Filename, "platform": img.Platform,
				"version": img.Version, "size": img.Size, "md5": img.MD5}
		}
	}
	return plan
}
