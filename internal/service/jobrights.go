package service

import (
	"context"

	"webnet/internal/authz"
	"webnet/internal/webnet"
)

// mayCancel is who may cancel job j (CancelJob): its requester, its customer's admins, and
// staff and superusers (whom g.Admin admits to every customer).
func mayCancel(g *authz.Grants, u *webnet.User, j *webnet.Job) bool {
	return (j.RequestedBy != nil && *j.RequestedBy == u.ID) || g.Admin(j.CustomerID)
}

// MayCancelJob reports whether CancelJob would cancel j for the caller now: j is unfinished
// and the caller is its requester, one of its customer's admins, or staff. j must be a job
// the caller may see, as GetJob or ListJobs returned it (CancelJob answers not_found for
// others). Without a signed-in user, or on an error reading their grants, it is false.
func (c *Core) MayCancelJob(ctx context.Context, j *webnet.Job) bool {
	if j == nil || webnet.JobFinished(j.Status) {
		return false
	}
	u, err := requireUser(ctx)
	if err != nil {
		return false
	}
	g, err := c.grants(ctx)
	if err != nil {
		return false
	}
	return mayCancel(g, u, j)
}
