package service

import (
	"context"

	"webnet/internal/webnet"
)

// AuthorizeAction answers what RunAction would answer about the caller and the devices,
// without queuing anything: not_found naming the invisible ids, forbidden (audited as
// denied, with the action's sentence) naming the devices without the action's permission,
// invalid for an empty or bad list. It returns the devices, in no particular order. Pages
// that lead up to an action over several steps (the upgrade wizard) call it at every step,
// so that no step shows what only a permitted user may see. Errors: unauthenticated,
// invalid, not_found, forbidden.
func (c *Core) AuthorizeAction(ctx context.Context, a Action, ids []int64) ([]webnet.Device, error) {
	g, err := c.grants(ctx)
	if err != nil {
		return nil, err
	}
	e := entry{action: "device." + a.Kind, objectType: "device"}
	return c.devicesFor(ctx, g, ids, a.Perm, a.Sentence, &e)
}
