package kinds_test

import (
	"maps"
	"strings"
	"testing"

	"webnet/internal/devsim"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
	"webnet/internal/webnet"
)

// rule creates a compliance rule of the lab's customer as the system.
func (l *lab) rule(t *testing.T, name, platform, kind, pattern, severity string) int64 {
	t.Helper()
	r, err := l.core.CreateComplianceRule(l.sys, service.ComplianceRuleInput{Customer: &l.cust, Name: &name, Platform: &platform,
		Kind: &kind, Pattern: &pattern, Severity: &severity})
	if err != nil {
		t.Fatalf("rule %s: %v", name, err)
	}
	return r.ID
}

// results maps "device/rule" to whether the latest result passed.
func (l *lab) results(t *testing.T) map[string]bool {
	t.Helper()
	list, _, err := l.core.ListComplianceResults(l.sys, webnet.ComplianceResultQuery{CustomerID: &l.cust}, webnet.Page{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, r := range list {
		if strings.Contains(r.Detail, "host-name") || strings.Contains(r.Detail, "10.99") {
			t.Errorf("a result's detail quotes the configuration: %q", r.Detail)
		}
		out[r.DeviceName+"/"+r.RuleName] = r.Passed
	}
	return out
}

// TestComplianceOverSSH: rules of each kind, per platform and for all, against a device of
// each platform over SSH; results per device and rule; the summary's numbers; dry runs,
// unreachable devices, changed and deleted rules.
func TestComplianceOverSSH(t *testing.T) {
	l := newLab(t, storetest.Open(t, store.SQLite), 4) // IOS-XE, EOS, Junos, IOS-XE
	names := l.names()
	ios, eos, junos, spare := names[0], names[1], names[2], names[3]
	l.rule(t, "no-marker", "", "must_not_contain", "compliance-marker-bad", "high")
	ntp := l.rule(t, "ntp", devsim.IOSXE, "must_contain", "ntp server 10.99.0.1", "medium")
	l.rule(t, "host-name", devsim.Junos, "regex_match", `^\s+host-name \S+;$`, "low")
	l.rule(t, "no-forbidden-site", devsim.Junos, "regex_absent", `^\s+location forbidden-site;$`, "critical")
	l.rule(t, "eos-hostname", devsim.EOS, "regex_match", `^hostname \S+$`, "low")
	for name, lines := range map[string][]string{
		ios:   {"ntp server 10.99.0.1"},
		eos:   {"interface Loopback3", "description compliance-marker-bad"},
		junos: {"set snmp location forbidden-site"},
	} {
		if err := l.fleet.Device(name).ChangeConfig(lines...); err != nil {
			t.Fatal(err)
		}
	}

	j := l.run(t, webnet.JobCompliance, nil, false, ios, eos, junos)
	if j.Status != webnet.JobPartial {
		t.Fatalf("job: %+v", j)
	}
	for name, want := range map[string]struct{ status, message string }{
		ios:   {webnet.TargetSucceeded, "Compliant: all 2 rules passed."},
		eos:   {webnet.TargetFailed, "not compliant: 1 of 2 rules failed: no-marker (high)"},
		junos: {webnet.TargetFailed, "not compliant: 1 of 3 rules failed: no-forbidden-site (critical)"},
	} {
		if tg := target(j, l.ids[name]); tg.Status != want.status || tg.Message != want.message {
			t.Errorf("%s: %+v; want %s %q", name, tg, want.status, want.message)
		}
	}
	want := map[string]bool{
		ios + "/no-marker": true, ios + "/ntp": true,
		eos + "/no-marker": false, eos + "/eos-hostname": true,
		junos + "/no-marker": true, junos + "/host-name": true, junos + "/no-forbidden-site": false,
	}
	if got := l.results(t); !maps.Equal(got, want) {
		t.Fatalf("results %v, want %v", got, want)
	}
	sum := l.summary(t)
	if sum.Devices != 4 || sum.Compliant != 1 || sum.NonCompliant != 2 || sum.Unchecked != 1 || sum.LastCheckedAt == nil {
		t.Fatalf("summary %+v", sum)
	}
	counts := map[string][2]int{}
	for _, r := range sum.Rules {
		counts[r.Name] = [2]int{r.Passed, r.Failed}
	}
	wantCounts := map[string][2]int{"no-marker": {2, 1}, "ntp": {1, 0}, "host-name": {1, 0}, "no-forbidden-site": {0, 1}, "eos-hostname": {1, 0}}
	if !maps.Equal(counts, wantCounts) {
		t.Fatalf("rule counts %v, want %v", counts, wantCounts)
	}
	if !strings.Contains(l.logText(t, j), `Rule "no-forbidden-site" (critical) failed: Matches at line`) {
		t.Errorf("log:\n%s", l.logText(t, j))
	}

	// A dry run evaluates the fixed Junos device and stores nothing.
	if err := l.fleet.Device(junos).ChangeConfig("delete snmp location"); err != nil {
		t.Fatal(err)
	}
	dry := l.run(t, webnet.JobCompliance, nil, true, junos)
	if tg := target(dry, l.ids[junos]); tg.Status != webnet.TargetSucceeded || !strings.Contains(tg.Message, "dry run: results not stored") {
		t.Fatalf("dry run: %+v", tg)
	}
	if l.results(t)[junos+"/no-forbidden-site"] {
		t.Fatal("a dry run stored its results")
	}
	// An unreachable device fails and keeps its previous results.
	l.fleet.Device(eos).SetFaults(devsim.Faults{RejectAuth: true})
	j = l.run(t, webnet.JobCompliance, nil, false, eos, junos)
	if tg := target(j, l.ids[eos]); j.Status != webnet.JobPartial || !strings.Contains(tg.Message, "authentication failed") {
		t.Fatalf("unreachable: %+v", j)
	}
	got := l.results(t)
	if got[eos+"/no-marker"] || !got[eos+"/eos-hostname"] || !got[junos+"/no-forbidden-site"] {
		t.Fatalf("results after an unreachable device: %v", got)
	}
	// A changed pattern forgets the rule's results; a deleted rule takes them along.
	pattern := "ntp server 10.99.0.2"
	if _, err := l.core.UpdateComplianceRule(l.sys, ntp, service.ComplianceRuleInput{Pattern: &pattern}); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.results(t)[ios+"/ntp"]; ok {
		t.Fatal("a changed rule kept its results")
	}
	j = l.run(t, webnet.JobCompliance, nil, false, ios)
	if tg := target(j, l.ids[ios]); tg.Message != "not compliant: 1 of 2 rules failed: ntp (medium)" {
		t.Fatalf("after the change: %+v", tg)
	}
	if err := l.core.DeleteComplianceRule(l.sys, ntp); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.results(t)[ios+"/ntp"]; ok {
		t.Fatal("a deleted rule's results remain")
	}
	// No rule for the platform: skipped, and the device stays unchecked.
	for _, id := range l.ruleIDs(t) {
		if err := l.core.DeleteComplianceRule(l.sys, id); err != nil {
			t.Fatal(err)
		}
	}
	l.rule(t, "junos-only", devsim.Junos, "must_contain", "system", "low")
	j = l.run(t, webnet.JobCompliance, nil, false, spare)
	if tg := target(j, l.ids[spare]); tg.Status != webnet.TargetSkipped || !strings.Contains(tg.Message, "No compliance rule applies to cisco_iosxe") {
		t.Fatalf("no rule: %+v %+v", tg, j)
	}
	if s := l.summary(t); s.Unchecked != 1 {
		t.Fatalf("a skipped device counts as checked: %+v", s)
	}
}

func (l *lab) summary(t *testing.T) webnet.ComplianceSummary {
	t.Helper()
	list, n, err := l.core.ComplianceSummaries(l.sys, &l.cust, webnet.Page{Limit: 10})
	if err != nil || n != 1 || len(list) != 1 {
		t.Fatalf("summaries: %d %+v %v", n, list, err)
	}
	return list[0]
}

func (l *lab) ruleIDs(t *testing.T) []int64 {
	t.Helper()
	rules, _, err := l.core.ListComplianceRules(l.sys, &l.cust, webnet.Page{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, r := range rules {
		ids = append(ids, r.ID)
	}
	return ids
}
