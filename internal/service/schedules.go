package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"webnet/internal/authz"
	"webnet/internal/backup"
	"webnet/internal/store"
	"webnet/internal/webnet"
)

// scheduleAction is a job kind a schedule may run: the custom action whose permission the
// owner needs (the same as RunAction's), and the words a refused run uses.
type scheduleAction struct {
	Action
	doing string
}

// scheduleActions are the schedulable kinds.
var scheduleActions = map[string]scheduleAction{
	webnet.JobSync:       {ActionSync, "sync device inventory"},
	webnet.JobReadiness:  {ActionReadiness, "check device readiness"},
	webnet.JobUpgrade:    {ActionUpgrade, "upgrade device firmware"},
	webnet.JobConfigPush: {ActionConfigPush, "edit device configuration"},
}

// ScheduleInput is the body of POST /api/schedules/ and PATCH /api/schedules/{id}/: on a
// PATCH only the given fields change. The target is a device group or a list of devices:
// giving one replaces the other.
type ScheduleInput struct {
	Customer    *int64         `json:"customer"`
	Name        *string        `json:"name"`
	Kind        *string        `json:"kind"`
	Cron        *string        `json:"cron"`
	Timezone    *string        `json:"timezone"`
	DeviceGroup OptionalID     `json:"device_group"`
	Devices     []int64        `json:"devices"`
	Params      map[string]any `json:"params"`
	DryRun      *bool          `json:"dry_run"`
	Enabled     *bool          `json:"enabled"`
	// BodyErr is the error of decoding the request body strictly, when the fields above
	// were read from it leniently: reported after the visibility and permission checks
	// (design.md §3).
	BodyErr error `json:"-"`
}

// onlySwitchesOff reports whether in changes nothing that makes the schedule do more: it
// renames it or disables it, or both. Such a change needs no permission on the targets and
// leaves the owner as it is, so that an owner whose permissions were revoked, or an admin,
// can always switch a schedule off.
func (in ScheduleInput) onlySwitchesOff() bool {
	return in.Customer == nil && in.Kind == nil && in.Cron == nil && in.Timezone == nil && !in.DeviceGroup.Set &&
		in.Devices == nil && in.Params == nil && in.DryRun == nil && (in.Enabled == nil || !*in.Enabled)
}

// applyTarget sets the schedule's target from in: a device group or a non-empty device list
// replaces the other; null or [] clears its own. The result must be exactly one of them.
func (in ScheduleInput) applyTarget(s *webnet.Schedule, f fieldErrors) {
	group, devices := in.DeviceGroup.Value != nil, len(in.Devices) > 0
	switch {
	case group && devices:
		f.add("devices", "Give a device group or a list of devices, not both.")
	case group:
		s.DeviceGroupID, s.DeviceIDs = in.DeviceGroup.Value, []int64{}
	case devices:
		s.DeviceGroupID, s.DeviceIDs = nil, slices.Clone(in.Devices)
	default:
		if in.DeviceGroup.Set {
			s.DeviceGroupID = nil
		}
		if in.Devices != nil {
			s.DeviceIDs = []int64{}
		}
		if s.DeviceGroupID == nil && len(s.DeviceIDs) == 0 {
			f.add("device_group", "Give a device group or a list of devices.")
		}
	}
}

// scheduleFields are a schedule's editable fields, for the audit details. The parameters
// are decoded, so that the same values compare equal whichever database spelled them.
func scheduleFields(s *webnet.Schedule) map[string]any {
	var params any
	if err := json.Unmarshal(s.Params, &params); err != nil {
		params = string(s.Params)
	}
	return map[string]any{"name": s.Name, "kind": s.Kind, "cron": s.Cron, "timezone": s.Timezone,
		"device_group": ptrValue(s.DeviceGroupID), "devices": s.DeviceIDs, "params": params,
		"dry_run": s.DryRun, "enabled": s.Enabled, "owner": ptrValue(s.OwnerID)}
}

// seesSchedule reports whether the user of g sees schedule s: the customer's admins (and
// staff) see all of its schedules, a member the ones they own.
func seesSchedule(g *authz.Grants, s *webnet.Schedule) bool {
	return g.Admin(s.CustomerID) || (g.Active && s.OwnerID != nil && *s.OwnerID == g.UserID && g.Member(s.CustomerID))
}

// visibleSchedule loads a schedule the caller sees, or not_found.
func (c *Core) visibleSchedule(ctx context.Context, g *authz.Grants, id int64) (*webnet.Schedule, error) {
	s, err := c.db.Read().ScheduleByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !seesSchedule(g, s) {
		return nil, notFoundErr("Schedule")
	}
	return s, nil
}

// ListSchedules returns a page of the schedules the caller sees (the customer's admins and
// staff all of a customer's, members their own), filtered in the query. Errors:
// unauthenticated, invalid (filter).
func (c *Core) ListSchedules(ctx context.Context, sq webnet.ScheduleQuery, page webnet.Page) ([]webnet.Schedule, int, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, 0, err
	}
	if _, ok := scheduleActions[sq.Kind]; sq.Kind != "" && !ok {
		return nil, 0, webnet.Invalid("Invalid filter.", map[string]string{"kind": "Not a schedulable job kind."})
	}
	vis, args := "1=1", []any(nil)
	if !g.Bypass() {
		if vis, args, err = store.ScheduleVisibility(g.UserID, g.AdminFilter("s.customer_id"), g.CustomerFilter("s.customer_id")); err != nil {
			return nil, 0, err
		}
	}
	return c.db.Read().ListSchedules(ctx, vis, args, sq, page)
}

// GetSchedule returns a schedule the caller sees. Errors: unauthenticated, not_found.
func (c *Core) GetSchedule(ctx context.Context, id int64) (*webnet.Schedule, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	return c.visibleSchedule(ctx, g, id)
}

// CreateSchedule creates a schedule owned by the caller, who must hold the permission of its
// kind's action (the one RunAction needs) on every target device, or on the target device
// group, now; every run checks the owner's permissions again. Upgrades may only be scheduled
// as dry runs: a real upgrade needs a person to confirm it. Errors: unauthenticated,
// not_found (customer, device group, devices), forbidden, invalid, conflict (name taken).
func (c *Core) CreateSchedule(ctx context.Context, in ScheduleInput) (*webnet.Schedule, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	if in.Customer == nil {
		return nil, bodyErrFirst(in.BodyErr, webnet.Invalid("Invalid schedule.", map[string]string{"customer": "This field is required."}))
	}
	if !g.Bypass() && !g.Member(*in.Customer) {
		return nil, &webnet.Error{Code: webnet.ENotFound, Message: "Customer not found.", Fields: map[string]string{"customer": "No such customer."}}
	}
	now := c.clock.Now()
	s := &webnet.Schedule{CustomerID: *in.Customer, Timezone: "UTC", DeviceIDs: []int64{}, Params: json.RawMessage(`{}`),
		Enabled: true, CreatedAt: now, UpdatedAt: now}
	e := entry{action: "schedule.create", objectType: "schedule", customerID: s.CustomerID}
	if in.Name != nil {
		e.repr = *in.Name
	}
	f := fieldErrors{}
	for field, given := range map[string]bool{"name": in.Name != nil, "kind": in.Kind != nil, "cron": in.Cron != nil} {
		if !given {
			f.add(field, "This field is required.")
		}
	}
	if err := c.authorizeSchedule(ctx, g, s, in, &e); err != nil {
		return nil, err
	}
	if err := c.applySchedule(s, in, true, now, f); err != nil {
		return nil, err
	}
	if err := c.checkScheduleImage(ctx, g, s); err != nil {
		return nil, err
	}
	s.OwnerID = &u.ID
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.CreateSchedule(ctx, s); err != nil {
			return err
		}
		e.objectID, e.repr = s.ID, s.Name
		e.details = map[string]any{"after": scheduleFields(s)}
		return c.audit(ctx, tx, e)
	})
	if err != nil {
		return nil, err
	}
	return s, nil
}

// UpdateSchedule changes a schedule the caller sees (its owner, the customer's admins,
// staff). A change that makes it do anything other than before (kind, target, parameters,
// timing, enabling it) needs the action's permission on the resulting targets, like
// CreateSchedule, and makes the caller its owner; renaming or disabling it needs neither and
// keeps the owner. Errors: unauthenticated, not_found, forbidden, invalid, conflict.
func (c *Core) UpdateSchedule(ctx context.Context, id int64, in ScheduleInput) (*webnet.Schedule, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	u, err := requireUser(ctx)
	if err != nil {
		return nil, err
	}
	old, err := c.visibleSchedule(ctx, g, id)
	if err != nil {
		return nil, err
	}
	e := entry{action: "schedule.update", objectType: "schedule", objectID: old.ID, repr: old.Name, customerID: old.CustomerID}
	s := *old
	s.DeviceIDs = slices.Clone(old.DeviceIDs)
	switchOff := in.onlySwitchesOff()
	if !switchOff {
		if err := c.authorizeSchedule(ctx, g, &s, in, &e); err != nil {
			return nil, err
		}
		s.OwnerID = &u.ID
	} else if in.BodyErr != nil {
		return nil, in.BodyErr
	}
	f := fieldErrors{}
	if in.Customer != nil && *in.Customer != old.CustomerID {
		f.add("customer", "A schedule cannot move to another customer.")
	}
	now := c.clock.Now()
	if err := c.applySchedule(&s, in, !switchOff, now, f); err != nil {
		return nil, err
	}
	if err := c.checkScheduleImage(ctx, g, &s); err != nil {
		return nil, err
	}
	// Same timing: the schedule keeps the tick it waits for, even one that is due and not
	// taken yet (or taken by a process since old was read).
	retime := s.Enabled != old.Enabled || s.Cron != old.Cron || s.Timezone != old.Timezone
	if !s.Enabled {
		s.NextRunAt = nil
	}
	s.UpdatedAt = now
	var saved *webnet.Schedule
	err = c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.UpdateSchedule(ctx, &s, retime); err != nil {
			return err
		}
		e.repr = s.Name
		e.details = changes(scheduleFields(old), scheduleFields(&s))
		if err := c.audit(ctx, tx, e); err != nil {
			return err
		}
		saved, err = tx.ScheduleByID(ctx, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	return saved, nil
}

// DeleteSchedule deletes a schedule the caller sees (its owner, the customer's admins,
// staff); the jobs it created stay. Errors: unauthenticated, not_found.
func (c *Core) DeleteSchedule(ctx context.Context, id int64) error {
	g, err := c.grants(ctx)
	if err != nil {
		return err
	}
	s, err := c.visibleSchedule(ctx, g, id)
	if err != nil {
		return err
	}
	e := entry{action: "schedule.delete", objectType: "schedule", objectID: s.ID, repr: s.Name, customerID: s.CustomerID,
		details: map[string]any{"before": scheduleFields(s)}}
	return c.db.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteSchedule(ctx, id); err != nil {
			return err
		}
		return c.audit(ctx, tx, e)
	})
}

// authorizeSchedule sets s's kind and target from in and checks them for the caller: every
// referenced device group and device visible and in s's customer (not_found otherwise), then
// the kind's action permitted on them (forbidden otherwise); a refusal is audited. Without a
// valid kind, the caller must hold at least one schedulable action there: a caller who may
// schedule nothing learns nothing about the body. Then it reports in.BodyErr, then what is
// wrong with the kind and the target.
func (c *Core) authorizeSchedule(ctx context.Context, g *authz.Grants, s *webnet.Schedule, in ScheduleInput, e *entry) error {
	f := fieldErrors{}
	if in.Kind != nil {
		s.Kind = *in.Kind
	}
	act, known := scheduleActions[s.Kind]
	if !known && in.Kind != nil {
		f.add("kind", "Must be one of sync, readiness, upgrade, config_push.")
	}
	in.applyTarget(s, f)
	allowed, sentence := func(t authz.Target) bool { return g.Can(act.Perm, t) }, act.Sentence
	if !known {
		allowed, sentence = func(t authz.Target) bool { return canSchedule(g, t) }, "You do not have permission to run jobs on these devices"
	}
	if s.DeviceGroupID != nil {
		dg, err := c.db.Read().DeviceGroupByID(ctx, *s.DeviceGroupID)
		if err != nil || dg.CustomerID != s.CustomerID || !g.SeesDeviceGroup(dg.CustomerID, dg.ID) {
			return c.denied(ctx, *e, &webnet.Error{Code: webnet.ENotFound, Message: "Device group not found.",
				Fields: map[string]string{"device_group": "No such device group in this customer."}})
		}
		if !allowed(authz.Target{CustomerID: dg.CustomerID, DeviceGroupID: dg.ID}) {
			return c.denied(ctx, *e, forbidden("%s", sentence))
		}
	} else if len(s.DeviceIDs) > 0 {
		devices, err := c.devicesFor(ctx, g, s.DeviceIDs, webnet.PermViewDevice, "", e)
		var we *webnet.Error
		if errors.As(err, &we) && we.Code == webnet.ENotFound {
			// Like a device group's, an invisible device's reference is named and audited.
			we.Fields = map[string]string{"devices": "No such devices in this customer (see devices)."}
			return c.denied(ctx, *e, we)
		}
		if err != nil {
			return bodyErrFirst(in.BodyErr, err)
		}
		var denied, others []int64
		for _, d := range devices {
			if !allowed(authz.TargetOf(&d)) {
				denied = append(denied, d.ID)
			}
			if d.CustomerID != s.CustomerID {
				others = append(others, d.ID)
			}
		}
		if len(denied) > 0 {
			return c.denied(ctx, *e, &webnet.Error{Code: webnet.EForbidden, Message: sentence, Extra: map[string]any{"devices": denied}})
		}
		if len(others) > 0 {
			f.add("devices", fmt.Sprintf("Devices %s belong to another customer.", joinIDs(others)))
		}
	}
	if err := f.err("Invalid schedule."); err != nil {
		return bodyErrFirst(in.BodyErr, err)
	}
	return in.BodyErr
}

// canSchedule reports whether g holds any schedulable action on t.
func canSchedule(g *authz.Grants, t authz.Target) bool {
	for _, a := range scheduleActions {
		if g.Can(a.Perm, t) {
			return true
		}
	}
	return false
}

// applySchedule sets the rest of in on s and validates the whole schedule, computing its
// next tick; f may hold earlier failures. recheck says whether to check the parameters
// again (against the kind, which may have changed): every change but a switch-off does.
func (c *Core) applySchedule(s *webnet.Schedule, in ScheduleInput, recheck bool, now time.Time, f fieldErrors) error {
	if in.Name != nil {
		s.Name = *in.Name
		f.checkName("name", s.Name)
	}
	if in.Cron != nil {
		s.Cron = strings.TrimSpace(*in.Cron)
	}
	if in.Timezone != nil {
		s.Timezone = *in.Timezone
		if s.Timezone == "" {
			s.Timezone = "UTC"
		}
	}
	if in.DryRun != nil {
		s.DryRun = *in.DryRun
	}
	if in.Enabled != nil {
		s.Enabled = *in.Enabled
	}
	spec, ok := parseCron(s.Cron, s.Timezone, now, f)
	if recheck {
		params := in.Params
		if params == nil {
			if err := json.Unmarshal(s.Params, &params); err != nil {
				return fmt.Errorf("schedule %d params: %w", s.ID, err)
			}
		}
		b, err := json.Marshal(scheduleParams(s.Kind, s.DryRun, params, f))
		if err != nil {
			return fmt.Errorf("schedule params: %w", err)
		}
		s.Params = b
	}
	if err := f.err("Invalid schedule."); err != nil {
		return err
	}
	if s.Enabled && ok {
		next := spec.next(time.Time{}, now)
		s.NextRunAt = &next
	}
	return nil
}

// scheduleParams checks the parameters of a job kind and returns them in canonical form:
// readiness takes an optional firmware image, upgrade needs one and must be a dry run, a
// configuration push needs the configuration; nothing else is taken.
func scheduleParams(kind string, dryRun bool, p map[string]any, f fieldErrors) map[string]any {
	out := map[string]any{}
	for _, k := range slices.Sorted(maps.Keys(p)) {
		v := p[k]
		switch {
		case k == "image" && (kind == webnet.JobReadiness || kind == webnet.JobUpgrade):
			// From JSON a number is a float64; Go callers (the UI) pass integers.
			var n float64
			ok := true
			switch x := v.(type) {
			case float64:
				n = x
			case int64:
				n = float64(x)
			case int:
				n = float64(x)
			default:
				ok = false
			}
			if !ok || n < 1 || n > 1<<53 || n != math.Trunc(n) {
				f.add("params", "image must be a firmware image id.")
				continue
			}
			out[k] = int64(n)
		case k == "config" && kind == webnet.JobConfigPush:
			cfg, ok := v.(string)
			if !ok {
				f.add("params", "config must be the configuration text to push.")
				continue
			}
			// The schedule's devices may be of several platforms: what holds on all of them
			// here, each device's own platform when the job runs.
			if why := backup.CheckPush("", cfg); why != "" {
				f.add("params", "config: "+why)
				continue
			}
			out[k] = cfg
		default:
			f.add("params", fmt.Sprintf("A %s schedule takes no parameter %q.", kind, k))
		}
	}
	switch kind {
	case webnet.JobUpgrade:
		if _, ok := p["image"]; !ok {
			f.add("params", "image is required: the firmware image to upgrade to.")
		}
		if !dryRun {
			f.add("dry_run", "Scheduled upgrades must be dry runs: a real upgrade needs a person to confirm it.")
		}
	case webnet.JobConfigPush:
		if _, ok := p["config"]; !ok {
			f.add("params", "config is required: the configuration text to push.")
		}
	}
	return out
}

// checkScheduleImage checks the firmware image a schedule's parameters name, if any, as a
// request would: one the caller can see (else not_found), global or of the schedule's
// customer (else invalid).
func (c *Core) checkScheduleImage(ctx context.Context, g *authz.Grants, s *webnet.Schedule) error {
	var p struct {
		Image *int64 `json:"image"`
	}
	if json.Unmarshal(s.Params, &p) != nil || p.Image == nil {
		return nil
	}
	img, err := c.imageFor(ctx, g, *p.Image, "")
	if err != nil {
		return &webnet.Error{Code: webnet.ENotFound, Message: "Firmware image not found.",
			Fields: map[string]string{"params": "image: no such firmware image."}}
	}
	if img.CustomerID != nil && *img.CustomerID != s.CustomerID {
		return webnet.Invalid("Invalid schedule.", map[string]string{
			"params": "image: the image belongs to another customer; use one of the schedule's customer's images or a global one."})
	}
	return nil
}
