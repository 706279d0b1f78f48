package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"webnet/internal/devsim"
	"webnet/internal/secret"
	"webnet/internal/service"
	"webnet/internal/webnet"
)

// demoPassword is the password of every demo user, the superuser admin included. It is
// printed at every start and written in the README: the demo is for trying webnet on one's
// own machine, never for real data, and a password one cannot forget is what makes it easy
// to try every role.
const demoPassword = "webnet-demo"

// demoCustomer is a customer the demo creates, with its device groups and users.
type demoCustomer struct {
	Name, Slug string
	// Groups receive the fleet's devices: the fleet is split in contiguous, even blocks over
	// every customer's groups in order, so that each group holds all three platforms.
	Groups []demoGroup
	Users  []demoUser
	// Schedules are created by the customer's first admin, who owns them: a schedule runs
	// with its owner's permissions.
	Schedules []demoSchedule
}

// demoGroup is a device group of a demo customer.
type demoGroup struct {
	Name, Description string
	// Roles are device-group roles on this group, each given to the named users.
	Roles []demoRole
}

// demoRole is a device-group role and who holds it.
type demoRole struct {
	Name, Description string
	Permissions       []string
	Holders           []string // usernames
}

// demoUser is a member of a demo customer; Summary says in the banner what they may do.
type demoUser struct {
	Username string
	Role     webnet.Role
	Summary  string
}

// demoSchedule is a sync schedule of one device group.
type demoSchedule struct{ Name, Group, Cron string }

// demoCustomers describes the demo's tenants: one with every membership role and a
// device-group role, and a second one to show that tenants never see each other.
func demoCustomers() []demoCustomer {
	return []demoCustomer{
		{Name: "Acme Networks", Slug: "acme",
			Groups: []demoGroup{
				{Name: "core", Description: "Core switches and routers (synced nightly by a schedule)."},
				{Name: "edge", Description: "Edge and access devices."},
				{Name: "lab", Description: "The lab: acme-member may sync it and read its backups.",
					Roles: []demoRole{{Name: "lab-sync", Description: "Sync lab devices and read their backups.",
						Permissions: []string{"sync_device_inventory", "view_backups"}, Holders: []string{"acme-member"}}}},
			},
			Users: []demoUser{
				{"acme-admin", webnet.RoleAdmin, "Acme Networks admin: everything in Acme"},
				{"acme-operator", webnet.RoleOperator, "Acme Networks operator: view and sync every grouped device"},
				{"acme-viewer", webnet.RoleViewer, "Acme Networks viewer: view devices, nothing else"},
				{"acme-member", webnet.RoleMember, "Acme Networks member: role lab-sync on lab (sync, backups)"},
			},
			Schedules: []demoSchedule{{Name: "Nightly sync of core", Group: "core", Cron: "0 2 * * *"}}},
		{Name: "Globex", Slug: "globex",
			Groups: []demoGroup{{Name: "dc", Description: "Data-centre fabric."}},
			Users:  []demoUser{{"globex-admin", webnet.RoleAdmin, "Globex admin: everything in Globex, nothing in Acme"}}},
	}
}

// demoGroupCount is the number of device groups over all demo customers: the fleet must
// have at least one device for each.
func demoGroupCount() int {
	n := 0
	for _, c := range demoCustomers() {
		n += len(c.Groups)
	}
	return n
}

// dbState is what a database holds, as far as the demo is concerned.
type dbState int

const (
	// dbEmpty: no customer, and no user but the superuser "admin" that Main.Open bootstraps.
	dbEmpty dbState = iota
	// dbDemo: the demo's customers, among whatever else.
	dbDemo
	// dbOther: someone's data, into which the demo's known passwords must never go.
	dbOther
)

// demoDatabaseState tells whether the database is empty, holds the demo's customers, or
// holds other data. sys must carry the system subject.
func demoDatabaseState(sys context.Context, core *service.Core) (dbState, error) {
	customers, n, err := core.ListCustomers(sys, webnet.Page{Limit: 1000})
	if err != nil {
		return dbOther, err
	}
	if n > 0 {
		slugs := map[string]bool{}
		for _, c := range customers {
			slugs[c.Slug] = true
		}
		for _, dc := range demoCustomers() {
			if !slugs[dc.Slug] {
				return dbOther, nil
			}
		}
		return dbDemo, nil
	}
	users, n, err := core.ListUsers(sys, service.UserFilter{}, webnet.Page{Limit: 2})
	if err != nil {
		return dbOther, err
	}
	if n == 0 || (n == 1 && users[0].Username == "admin" && users[0].IsSuperuser) {
		return dbEmpty, nil
	}
	return dbOther, nil
}

// seedDemo fills a fresh database with the demo's customers, device groups, credentials,
// devices (the whole fleet, split over the groups), users, device-group roles and schedule,
// then queues the first sync of every device. Everything goes through the service layer:
// as the system, except the schedule and the syncs, which are the customers' admins' own
// (a schedule runs as its owner; a job names who asked for it). It returns the jobs queued.
func seedDemo(ctx context.Context, core *service.Core, fleet *devsim.Fleet) ([]*webnet.Job, error) {
	if err := setDemoAdminPassword(service.WithSubject(ctx, service.System()), core); err != nil {
		return nil, err
	}
	if err := seedDemoImages(service.WithSubject(ctx, service.System()), core); err != nil {
		return nil, err
	}
	login := fleet.Inventory().Credential
	blocks := splitEvenly(fleet.Devices(), demoGroupCount())
	var jobs []*webnet.Job
	for _, dc := range demoCustomers() {
		js, err := seedDemoCustomer(ctx, core, dc, login, blocks[:len(dc.Groups)])
		if err != nil {
			return nil, err
		}
		jobs = append(jobs, js...)
		blocks = blocks[len(dc.Groups):]
	}
	return jobs, nil
}

// seedDemoCustomer makes one demo customer with everything in it, blocks[i] being the
// devices of its i-th group, and queues their first sync.
func seedDemoCustomer(ctx context.Context, core *service.Core, dc demoCustomer, login devsim.InventoryLogin, blocks [][]devsim.Info) ([]*webnet.Job, error) {
	sys := service.WithSubject(ctx, service.System())
	cust, err := core.CreateCustomer(sys, service.CustomerInput{Name: dc.Name, Slug: dc.Slug})
	if err != nil {
		return nil, fmt.Errorf("create customer %s: %w", dc.Slug, err)
	}
	users := map[string]*webnet.User{}
	for _, du := range dc.Users {
		role := string(du.Role)
		u, err := core.CreateUser(sys, service.UserInput{Username: du.Username, Email: du.Username + "@" + dc.Slug + ".example",
			Password: demoPassword, Customer: &cust.ID, Role: &role})
		if err != nil {
			return nil, fmt.Errorf("create user %s: %w", du.Username, err)
		}
		users[du.Username] = u
	}
	cred, err := core.CreateCredential(sys, service.CredentialInput{Customer: &cust.ID, Name: devsim.InventoryCredential,
		Username: login.Username, Password: service.SecretField{Set: true, Value: secret.NewValue(login.Password)}})
	if err != nil {
		return nil, fmt.Errorf("create credential of %s: %w", dc.Slug, err)
	}
	var rows []service.ImportRow
	groups := map[string]int64{}
	for i, dg := range dc.Groups {
		g, err := core.CreateDeviceGroup(sys, service.DeviceGroupInput{Customer: &cust.ID, Name: &dg.Name, Description: &dg.Description})
		if err != nil {
			return nil, fmt.Errorf("create device group %s/%s: %w", dc.Slug, dg.Name, err)
		}
		groups[dg.Name] = g.ID
		if err := createDemoRoles(sys, core, g.ID, dg.Roles, users); err != nil {
			return nil, err
		}
		for _, d := range blocks[i] {
			rows = append(rows, service.ImportRow{Name: d.Name, Address: d.Address, Port: ptr(d.Port), Platform: d.Platform,
				DeviceGroup: dg.Name, Credential: cred.Name})
		}
	}
	imported, err := core.ImportDevices(sys, service.ImportRequest{Customer: cust.ID, Rows: rows})
	if err != nil {
		return nil, fmt.Errorf("import the fleet into %s: %w", dc.Slug, err)
	}
	admin := service.WithSubject(ctx, &service.Subject{User: users[firstAdmin(dc)]})
	for _, ds := range dc.Schedules {
		_, err := core.CreateSchedule(admin, service.ScheduleInput{Customer: &cust.ID, Name: &ds.Name,
			Kind: ptr(webnet.JobSync), Cron: &ds.Cron, DeviceGroup: service.OptionalID{Set: true, Value: ptr(groups[ds.Group])}})
		if err != nil {
			return nil, fmt.Errorf("create schedule %q: %w", ds.Name, err)
		}
	}
	// The admin asks for the first sync, as they would with POST /api/devices/sync/.
	jobs, err := core.RunAction(admin, service.ActionSync, service.ActionRequest{Devices: imported.Devices})
	if err != nil {
		return nil, fmt.Errorf("first sync of %s: %w", dc.Slug, err)
	}
	return jobs, nil
}

// setDemoAdminPassword gives the bootstrap superuser the demo password, so that the banner
// can show it at every start (the one-time password Main.Open made is shown only once).
func setDemoAdminPassword(sys context.Context, core *service.Core) error {
	users, _, err := core.ListUsers(sys, service.UserFilter{}, webnet.Page{Limit: 1})
	if err != nil {
		return err
	}
	if len(users) != 1 || users[0].Username != "admin" {
		return errors.New("the database has no bootstrap superuser admin to give the demo password")
	}
	pw := demoPassword
	if _, err := core.UpdateUser(sys, users[0].ID, service.UserPatch{Password: &pw}); err != nil {
		return fmt.Errorf("set the password of admin: %w", err)
	}
	return nil
}

// createDemoRoles creates a group's device-group roles and gives each to its holders.
func createDemoRoles(sys context.Context, core *service.Core, groupID int64, roles []demoRole, users map[string]*webnet.User) error {
	for _, dr := range roles {
		r, err := core.CreateRole(sys, service.RoleInput{DeviceGroup: &groupID, Name: &dr.Name, Description: &dr.Description,
			Permissions: &dr.Permissions})
		if err != nil {
			return fmt.Errorf("create role %s: %w", dr.Name, err)
		}
		for _, h := range dr.Holders {
			if _, err := core.CreateAssignment(sys, "user", service.AssignmentInput{User: &users[h].ID, Role: &r.ID}); err != nil {
				return fmt.Errorf("give role %s to %s: %w", dr.Name, h, err)
			}
		}
	}
	return nil
}

// firstAdmin is the username of the customer's first admin.
func firstAdmin(dc demoCustomer) string {
	for _, u := range dc.Users {
		if u.Role == webnet.RoleAdmin {
			return u.Username
		}
	}
	panic("demo customer " + dc.Slug + " has no admin") // demoCustomers is a literal: a test covers it
}

// splitEvenly cuts items into n contiguous blocks whose sizes differ by at most one.
func splitEvenly[T any](items []T, n int) [][]T {
	out := make([][]T, n)
	for i := range n {
		out[i] = items[i*len(items)/n : (i+1)*len(items)/n]
	}
	return out
}

func ptr[T any](v T) *T { return &v }

// demoImages are the demo's global golden images, one per simulated platform, of versions no
// simulated device runs at the start: the upgrade wizard has something to offer, and an
// upgrade really copies, verifies and boots it (the simulator boots any file with its
// platform's extension and a version in its name).
var demoImages = []struct{ platform, version, filename string }{
	{devsim.IOSXE, "17.15.01", "cat9k_iosxe.17.15.01.SPA.bin"},
	{devsim.EOS, "4.33.1F", "EOS-4.33.1F.swi"},
	{devsim.Junos, "24.2R1.10", "junos-install-24.2R1.10.tgz"},
}

// demoImageSize is each demo image's size: enough for the copy to show, little disk.
const demoImageSize = 8 << 20

// seedDemoImages uploads the demo's golden images (deterministic content).
func seedDemoImages(sys context.Context, core *service.Core) error {
	for _, img := range demoImages {
		seed := []byte("webnet demo image " + img.filename + "\n")
		content := bytes.Repeat(seed, demoImageSize/len(seed)+1)[:demoImageSize]
		if _, err := core.UploadFirmwareImage(sys, service.FirmwareUpload{Global: true, Platform: img.platform, Version: img.version,
			Filename: img.filename, Golden: true, ContentLength: demoImageSize}, bytes.NewReader(content)); err != nil {
			return fmt.Errorf("demo image %s: %w", img.filename, err)
		}
	}
	return nil
}
