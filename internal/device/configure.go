package device

import (
	"context"
	"fmt"
	"strings"

	"github.com/scrapli/scrapligo/driver/opoptions"
)

// junos is the platform whose configuration is a candidate that must be committed; IOS-XE and
// EOS apply each line to the running configuration as it is entered.
const junos = "juniper_junos"

// RefusedError is a configuration line the device refused, with the device's own words.
type RefusedError struct {
	Line    int    // 1-based, among the lines given to Configure
	Input   string // the line as sent
	Message string // the first line of the device's answer ("% Invalid input detected at '^' marker.")
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("the device refused line %d %q: %s", e.Line, e.Input, e.Message)
}

// configPriv is the privilege level configuration lines are sent in. On Junos it is a private
// candidate ("configure private"): Save commits only this session's changes, Discard drops
// only them, and the device refuses to start one while others have uncommitted shared
// changes — webnet never commits someone else's half-done edit.
func (s *Session) configPriv() string {
	if s.platform == junos {
		return "configuration-private"
	}
	return "configuration"
}

// Configure sends configuration lines in configuration mode and stops at the first line the
// device refuses, which is a *RefusedError; the lines after it are not sent. It returns the
// device's output of the lines it sent.
//
// Each line is sent on its own, after the driver has checked that the session is still in
// configuration mode and entered it again if not: a line such as "end" or "exit" that leaves
// configuration mode cannot make the next line run as an exec command. On IOS-XE and EOS
// every accepted line is in the running configuration at once (Save makes it durable); on
// Junos the lines edit a private candidate that only Save commits.
func (s *Session) Configure(ctx context.Context, lines []string) (string, error) {
	var out strings.Builder
	err := s.guard(ctx, func() error {
		for i, line := range lines {
			mr, err := s.d.SendConfigs([]string{line}, opoptions.WithPrivilegeLevel(s.configPriv()))
			if err != nil {
				s.broken = true
				return cleanErr(ctx, err)
			}
			for _, r := range mr.Responses {
				out.WriteString(r.Result)
				if r.Failed != nil {
					return &RefusedError{Line: i + 1, Input: line, Message: firstLine(r.Result)}
				}
			}
		}
		return nil
	})
	return out.String(), err
}

// Save makes the configuration durable: IOS-XE and EOS copy the running configuration to the
// startup configuration ("write memory"); Junos commits the candidate Configure edited (a
// commit is durable). An answer without the platform's confirmation is an error quoting it.
func (s *Session) Save(ctx context.Context) error {
	if s.platform == junos {
		return s.configCommand(ctx, "commit", "commit complete")
	}
	out, err := s.Run(ctx, "write memory")
	if err != nil {
		return err
	}
	// IOS-XE answers "[OK]", EOS "Copy completed successfully."
	if !strings.Contains(out, "[OK]") && !strings.Contains(out, "Copy completed successfully") {
		return fmt.Errorf("%q did not confirm the save: %s", "write memory", firstLine(out))
	}
	return nil
}

// Discard drops what Configure changed and Save has not made durable, where the platform
// allows it: Junos rolls its private candidate back. On IOS-XE and EOS the lines accepted
// are already running and Discard does nothing (the startup configuration is untouched
// until Save).
func (s *Session) Discard(ctx context.Context) error {
	if s.platform != junos {
		return nil
	}
	return s.configCommand(ctx, "rollback", "load complete")
}

// configCommand runs command in configuration mode and checks that the device's answer
// contains want.
func (s *Session) configCommand(ctx context.Context, command, want string) error {
	return s.guard(ctx, func() error {
		r, err := s.d.SendConfig(command, opoptions.WithPrivilegeLevel(s.configPriv()))
		if err != nil {
			s.broken = true
			return cleanErr(ctx, err)
		}
		if r.Failed != nil || !strings.Contains(r.Result, want) {
			return fmt.Errorf("%q failed on the device: %s", command, firstLine(r.Result))
		}
		return nil
	})
}
