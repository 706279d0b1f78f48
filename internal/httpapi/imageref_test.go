package httpapi_test

import (
	"fmt"
	"testing"

	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// TestActionImageReferences: readiness and upgrade requests must name a firmware image the
// caller can see, global or of the devices' own customer; nothing is queued otherwise.
func TestActionImageReferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		global := w.image(t)
		upload := func(customer int64, name string, seed uint64) int64 {
			r := w.upload(t, w.root, imageForm(customer, name, imageBytes(seed, 500))...)
			if r.status != 201 {
				t.Fatalf("upload: %d %s", r.status, r.raw)
			}
			return idOf(r.body)
		}
		acmeImage, globexImage := upload(w.acme, "acme.bin", 1), upload(w.globex, "globex.bin", 2)
		jobs, _ := db.Read().CountJobs(t.Context())
		for _, c := range []struct {
			name   string
			token  string
			body   string
			status int
		}{
			{"another customer's image", w.tokens["admin"], fmt.Sprintf(`{"devices":[%d],"image":%d,"dry_run":true}`, w.r1, globexImage), 404},
			{"no such image", w.tokens["admin"], fmt.Sprintf(`{"devices":[%d],"image":999999,"dry_run":true}`, w.r1), 404},
			{"an image of the wrong customer, as staff", w.root, fmt.Sprintf(`{"devices":[%d],"image":%d,"dry_run":true}`, w.g1, acmeImage), 400},
		} {
			r := w.do(t, "POST", "/api/devices/readiness/", c.body, as(c.token)...)
			if f, _ := r.body["fields"].(map[string]any); r.status != c.status || f["image"] == nil {
				t.Errorf("%s: %d %s", c.name, r.status, r.raw)
			}
		}
		if n, _ := db.Read().CountJobs(t.Context()); n != jobs {
			t.Fatalf("refused requests queued %d jobs", n-jobs)
		}
		for _, img := range []int64{global, acmeImage} {
			r := w.do(t, "POST", "/api/devices/readiness/", fmt.Sprintf(`{"devices":[%d],"image":%d,"dry_run":true}`, w.r2, img), as(w.tokens["admin"])...)
			if r.status != 202 {
				t.Fatalf("readiness with image %d: %d %s", img, r.status, r.raw)
			}
			w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/cancel/", idOf(r.body["job"].(map[string]any))), "", as(w.tokens["admin"])...)
		}
	})
}
