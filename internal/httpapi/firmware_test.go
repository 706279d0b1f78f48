package httpapi_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webnet/internal/httpapi"
	"webnet/internal/service"
	"webnet/internal/store"
	"webnet/internal/store/storetest"
)

// formPart is one part of a multipart/form-data body: a field, or a file when filename is
// set.
type formPart struct {
	name, value string
	filename    string
}

func field(name, value string) formPart { return formPart{name: name, value: value} }

func filePart(filename string, content []byte) formPart {
	return formPart{name: "file", value: string(content), filename: filename}
}

// testBoundary makes test bodies deterministic.
const testBoundary = "webnet-test-boundary-7d1f0c"

// multipartBody encodes parts, in order, and returns the body and its Content-Type.
func multipartBody(parts ...formPart) (string, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	if err := mw.SetBoundary(testBoundary); err != nil {
		panic(err)
	}
	for _, p := range parts {
		var w io.Writer
		var err error
		if p.filename != "" {
			w, err = mw.CreateFormFile(p.name, p.filename)
		} else {
			w, err = mw.CreateFormField(p.name)
		}
		if err != nil {
			panic(err)
		}
		io.WriteString(w, p.value)
	}
	mw.Close()
	return b.String(), mw.FormDataContentType()
}

// imageForm is a valid upload form: customer (0: none, a global image), platform cisco_iosxe,
// version 17.12.03, the file last; extra fields come before the file.
func imageForm(customer int64, filename string, content []byte, extra ...formPart) []formPart {
	parts := []formPart{field("platform", "cisco_iosxe"), field("version", "17.12.03")}
	if customer != 0 {
		parts = append(parts, field("customer", fmt.Sprint(customer)))
	}
	return append(append(parts, extra...), filePart(filename, content))
}

// upload POSTs a form to /api/firmware-images/ as token.
func (e *env) upload(t testing.TB, token string, parts ...formPart) result {
	t.Helper()
	body, ct := multipartBody(parts...)
	return e.do(t, "POST", "/api/firmware-images/", body, "Authorization", "Token "+token, "Content-Type", ct)
}

// imageBytes is size deterministic pseudo-random bytes: a firmware image's stand-in.
func imageBytes(seed uint64, size int) []byte {
	b := make([]byte, size)
	rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8), 7}).Read(b)
	return b
}

func hexSHA256(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
func hexMD5(b []byte) string    { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

func imagePath(id int64) string { return fmt.Sprintf("/api/firmware-images/%d/", id) }

// firmwareDir lists the firmware directory's file names.
func (e *env) firmwareDir(t testing.TB) []string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.dataDir, "firmware"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, de := range entries {
		names = append(names, de.Name())
	}
	return names
}

// signedURL asks the service, as the worker would, for a URL of image id and returns its
// path (the test server stands in for the public URL).
func (e *env) signedURL(t testing.TB, id int64, ttl time.Duration) string {
	t.Helper()
	u, err := e.core.FirmwareURL(service.WithSubject(context.Background(), service.System()), id, ttl)
	if err != nil {
		t.Fatal(err)
	}
	path, ok := strings.CutPrefix(u, "http://webnet.test:8080")
	if !ok {
		t.Fatalf("URL %s is not under the public URL", u)
	}
	return path
}

func TestFirmwareUploadStoresChecksummedFile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		admin := w.tokens["admin"]
		content := imageBytes(1, 300<<10+17) // not a whole number of chunks
		r := w.upload(t, admin, imageForm(w.acme, "cat9k_iosxe.17.12.03.SPA.bin", content, field("model", "C9300-48P"))...)
		if r.status != 201 {
			t.Fatalf("upload: %d %s", r.status, r.raw)
		}
		id := idOf(r.body)
		sha, sum := hexSHA256(content), hexMD5(content)
		want := map[string]any{"customer": float64(w.acme), "platform": "cisco_iosxe", "version": "17.12.03", "model": "C9300-48P",
			"filename": "cat9k_iosxe.17.12.03.SPA.bin", "size": float64(len(content)), "sha256": sha, "md5": sum, "golden": false,
			"uploaded_by": float64(w.ids["admin"])}
		for k, v := range want {
			if r.body[k] != v {
				t.Errorf("%s = %v, want %v", k, r.body[k], v)
			}
		}
		// On disk under its SHA-256, byte for byte; nothing else in the directory.
		if got := w.firmwareDir(t); len(got) != 1 || got[0] != sha {
			t.Fatalf("firmware directory %v, want [%s]", got, sha)
		}
		onDisk, err := os.ReadFile(filepath.Join(w.dataDir, "firmware", sha))
		if err != nil || !bytes.Equal(onDisk, content) {
			t.Fatalf("file on disk differs (%v)", err)
		}
		if g := w.do(t, "GET", imagePath(id), "", as(admin)...); g.status != 200 || g.body["sha256"] != sha {
			t.Fatalf("get: %d %s", g.status, g.raw)
		}
		// Audited with its checksums, never its bytes.
		recs := w.newAudit(t, 0)
		last := recs[len(recs)-1]
		if last.Action != "firmware_image.create" || last.Result != "success" || last.ObjectRepr != "cat9k_iosxe.17.12.03.SPA.bin" ||
			!strings.Contains(string(last.Details), sha) || !strings.Contains(string(last.Details), sum) {
			t.Fatalf("audit record %+v %s", last, last.Details)
		}
		if len(last.Details) > 2000 {
			t.Fatalf("audit details of %d bytes", len(last.Details))
		}

		// The file name defaults to the file part's; fields may come in any order before it.
		other := imageBytes(2, 1000)
		r = w.upload(t, admin, field("version", "4.31.2F"), field("customer", fmt.Sprint(w.acme)), field("platform", "arista_eos"),
			filePart("EOS-4.31.2F.swi", other))
		if r.status != 201 || r.body["filename"] != "EOS-4.31.2F.swi" || r.body["md5"] != hexMD5(other) {
			t.Fatalf("upload without filename: %d %s", r.status, r.raw)
		}
		// A filename field renames it.
		r = w.upload(t, admin, imageForm(w.acme, "upload.bin", imageBytes(3, 10), field("filename", "renamed.bin"))...)
		if r.status != 201 || r.body["filename"] != "renamed.bin" {
			t.Fatalf("upload with filename: %d %s", r.status, r.raw)
		}
	})
}

func TestFirmwareUploadRefusalsLeaveNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		admin := w.tokens["admin"]
		content := imageBytes(1, 5000)
		first := w.upload(t, admin, imageForm(w.acme, "a.bin", content)...)
		if first.status != 201 {
			t.Fatalf("upload: %d %s", first.status, first.raw)
		}
		for _, c := range []struct {
			name   string
			token  string
			parts  []formPart
			status int
			code   string
		}{
			{"duplicate, another name", admin, imageForm(w.acme, "b.bin", content), 409, "conflict"},
			{"over the limit", admin, imageForm(w.acme, "big.bin", imageBytes(4, testFirmwareMaxSize+1)), 413, "body_too_large"},
			{"empty file", admin, imageForm(w.acme, "empty.bin", nil), 400, "invalid"},
			{"field after the file", admin, append(imageForm(w.acme, "late.bin", imageBytes(5, 3000)), field("golden", "true")), 400, "invalid"},
			{"bad version", admin, imageForm(w.acme, "v.bin", imageBytes(6, 10), field("model", "C9300 48P")), 400, "invalid"},
			{"viewer", w.tokens["viewer"], imageForm(w.acme, "v.bin", imageBytes(7, 10)), 403, "forbidden"},
			{"operator", w.tokens["operator"], imageForm(w.acme, "o.bin", imageBytes(8, 10)), 403, "forbidden"},
			{"outsider", w.tokens["outsider"], imageForm(w.acme, "x.bin", imageBytes(9, 10)), 404, "not_found"},
			{"another customer's admin", w.tokens["globexadm"], imageForm(w.acme, "x.bin", imageBytes(9, 10)), 404, "not_found"},
			{"admin, global image", admin, imageForm(0, "g.bin", imageBytes(10, 10)), 403, "forbidden"},
		} {
			t.Run(c.name, func(t *testing.T) {
				before := w.snapshot(t)
				r := w.upload(t, c.token, c.parts...)
				wantError(t, r, c.status, c.code)
				if c.status == 409 && (r.body["image"] != float64(idOf(first.body)) || !strings.Contains(r.body["error"].(string), "a.bin")) {
					t.Errorf("the conflict does not name the existing image: %s", r.raw)
				}
				if changed := changedTables(before, w.snapshot(t)); len(changed) > 0 {
					t.Errorf("wrote %v", changed)
				}
			})
		}
	})
}

func TestFirmwareScopesAndVisibility(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		content := imageBytes(1, 4000)
		// Staff upload global images; the same bytes may also be a customer's image: one file.
		global := w.upload(t, w.tokens["staff"], imageForm(0, "global.bin", content)...)
		if global.status != 201 || global.body["customer"] != nil {
			t.Fatalf("global upload: %d %s", global.status, global.raw)
		}
		acme := w.upload(t, w.tokens["admin"], imageForm(w.acme, "acme.bin", content)...)
		gx := w.upload(t, w.tokens["globexadm"], imageForm(w.globex, "gx.bin", imageBytes(2, 100))...)
		if acme.status != 201 || gx.status != 201 {
			t.Fatalf("uploads: %d %s, %d %s", acme.status, acme.raw, gx.status, gx.raw)
		}
		if files := w.firmwareDir(t); len(files) != 2 {
			t.Fatalf("files %v, want the shared one and globex's", files)
		}
		gid, aid, xid := idOf(global.body), idOf(acme.body), idOf(gx.body)

		// Every member sees the customer's images and the global ones, never another's.
		for _, who := range []string{"admin", "viewer", "operator", "member"} {
			got := map[int64]bool{}
			r := w.do(t, "GET", "/api/firmware-images/", "", as(w.tokens[who])...)
			for _, x := range r.body["results"].([]any) {
				got[idOf(x.(map[string]any))] = true
			}
			if r.status != 200 || len(got) != 2 || !got[gid] || !got[aid] || r.body["count"] != 2.0 {
				t.Errorf("list as %s: %s", who, r.raw)
			}
			if g := w.do(t, "GET", imagePath(aid), "", as(w.tokens[who])...); g.status != 200 {
				t.Errorf("get as %s: %d", who, g.status)
			}
			wantError(t, w.do(t, "GET", imagePath(xid), "", as(w.tokens[who])...), 404, "not_found")
		}
		if r := w.do(t, "GET", "/api/firmware-images/", "", as(w.tokens["outsider"])...); r.body["count"] != 1.0 {
			t.Errorf("an outsider sees the global images only: %s", r.raw)
		}
		for q, n := range map[string]float64{"?global=true": 1, "?global=false": 1, fmt.Sprintf("?customer=%d", w.acme): 1,
			"?platform=arista_eos": 0, "?golden=true": 0} {
			if r := w.do(t, "GET", "/api/firmware-images/"+q, "", as(w.tokens["admin"])...); r.body["count"] != n {
				t.Errorf("list %s: %s", q, r.raw)
			}
		}
		wantError(t, w.do(t, "GET", "/api/firmware-images/?golden=maybe", "", as(w.tokens["admin"])...), 400, "invalid")

		// Managing: the customer's admins theirs, staff the global ones.
		wantError(t, w.do(t, "PATCH", imagePath(gid), `{"golden":true}`, as(w.tokens["admin"])...), 403, "forbidden")
		wantError(t, w.do(t, "DELETE", imagePath(aid), "", as(w.tokens["operator"])...), 403, "forbidden")
		wantError(t, w.do(t, "PATCH", imagePath(aid), `{"golden":true}`, as(w.tokens["viewer"])...), 403, "forbidden")
		wantError(t, w.do(t, "DELETE", imagePath(xid), "", as(w.tokens["admin"])...), 404, "not_found")
		// Deleting one of two images of the same bytes keeps the file; the last one takes it.
		if r := w.do(t, "DELETE", imagePath(aid), "", as(w.tokens["admin"])...); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		if _, err := os.Stat(filepath.Join(w.dataDir, "firmware", hexSHA256(content))); err != nil {
			t.Fatalf("the global image's file went with the customer's image: %v", err)
		}
		if r := w.do(t, "DELETE", imagePath(gid), "", as(w.tokens["staff"])...); r.status != 204 {
			t.Fatalf("delete global: %d %s", r.status, r.raw)
		}
		if files := w.firmwareDir(t); len(files) != 1 || files[0] != hexSHA256(imageBytes(2, 100)) {
			t.Fatalf("files %v after deleting both images of the shared file", files)
		}
	})
}

func TestFirmwareGoldenIsExclusive(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		admin := w.tokens["admin"]
		up := func(token string, customer int64, seed uint64, extra ...formPart) int64 {
			t.Helper()
			r := w.upload(t, token, imageForm(customer, fmt.Sprintf("img%d.bin", seed), imageBytes(seed, 100), extra...)...)
			if r.status != 201 {
				t.Fatalf("upload: %d %s", r.status, r.raw)
			}
			return idOf(r.body)
		}
		golden := func() map[int64]bool {
			t.Helper()
			out := map[int64]bool{}
			r := w.do(t, "GET", "/api/firmware-images/?golden=true", "", as(w.tokens["staff"])...)
			for _, x := range r.body["results"].([]any) {
				out[idOf(x.(map[string]any))] = true
			}
			return out
		}
		a := up(admin, w.acme, 1, field("golden", "true"))
		b := up(admin, w.acme, 2, field("golden", "true")) // replaces a
		c := up(admin, w.acme, 3, field("golden", "1"), field("model", "C9300-48P"))
		g := up(w.tokens["staff"], 0, 4, field("golden", "true")) // global: its own scope
		x := up(w.tokens["globexadm"], w.globex, 5, field("golden", "true"))
		if got := golden(); len(got) != 4 || !got[b] || !got[c] || !got[g] || !got[x] {
			t.Fatalf("golden %v; want b, c, g, x", got)
		}
		r := w.do(t, "PATCH", imagePath(a), `{"golden":true}`, as(admin)...)
		if r.status != 200 || r.body["golden"] != true {
			t.Fatalf("patch: %d %s", r.status, r.raw)
		}
		if got := golden(); len(got) != 4 || !got[a] || got[b] {
			t.Fatalf("golden %v after marking a; want a, c, g, x", got)
		}
		// Moving c to every model makes it the golden one there, and a not.
		if r := w.do(t, "PATCH", imagePath(c), `{"model":""}`, as(admin)...); r.status != 200 || r.body["model"] != "" {
			t.Fatalf("patch model: %d %s", r.status, r.raw)
		}
		if got := golden(); len(got) != 3 || !got[c] || got[a] {
			t.Fatalf("golden %v after moving c; want c, g, x", got)
		}
		wantError(t, w.do(t, "PATCH", imagePath(c), `{"platform":"arista_eos"}`, as(admin)...), 400, "invalid")
		recs := w.newAudit(t, 0)
		last := recs[len(recs)-1]
		if last.Action != "firmware_image.update" || !strings.Contains(string(last.Details), "golden_replaces") {
			t.Fatalf("last audit record %s %s", last.Action, last.Details)
		}
	})
}

func TestFirmwareInUseCannotBeDeleted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		admin := w.tokens["admin"]
		r := w.upload(t, admin, imageForm(w.acme, "a.bin", imageBytes(1, 100))...)
		id := idOf(r.body)
		job := w.do(t, "POST", "/api/devices/upgrade/", fmt.Sprintf(`{"devices":[%d],"image":%d,"dry_run":true}`, w.r1, id), as(admin)...)
		if job.status != 202 {
			t.Fatalf("upgrade: %d %s", job.status, job.raw)
		}
		jobID := idOf(job.body["job"].(map[string]any))
		before := w.snapshot(t)
		d := w.do(t, "DELETE", imagePath(id), "", as(admin)...)
		wantError(t, d, 409, "conflict")
		if fmt.Sprint(d.body["jobs"]) != fmt.Sprintf("[%d]", jobID) {
			t.Fatalf("conflict %s; want the job named", d.raw)
		}
		if changed := changedTables(before, w.snapshot(t)); len(changed) > 0 {
			t.Fatalf("a refused delete wrote %v", changed)
		}
		if c := w.do(t, "POST", fmt.Sprintf("/api/jobs/%d/cancel/", jobID), "", as(admin)...); c.status != 200 {
			t.Fatalf("cancel: %d %s", c.status, c.raw)
		}
		// A schedule naming the image holds it too: its every run would fail without it.
		sched := idOf(w.post(t, admin, "/api/schedules/", fmt.Sprintf(
			`{"customer":%d,"name":"weekly check","kind":"readiness","cron":"@weekly","devices":[%d],"params":{"image":%d}}`, w.acme, w.r1, id)))
		d = w.do(t, "DELETE", imagePath(id), "", as(admin)...)
		wantError(t, d, 409, "conflict")
		if fmt.Sprint(d.body["schedules"]) != fmt.Sprintf("[%d]", sched) {
			t.Fatalf("conflict %s; want the schedule named", d.raw)
		}
		if r := w.do(t, "DELETE", fmt.Sprintf("/api/schedules/%d/", sched), "", as(admin)...); r.status != 204 {
			t.Fatalf("delete the schedule: %d %s", r.status, r.raw)
		}
		if d := w.do(t, "DELETE", imagePath(id), "", as(admin)...); d.status != 204 {
			t.Fatalf("delete after the job: %d %s", d.status, d.raw)
		}
		if files := w.firmwareDir(t); len(files) != 0 {
			t.Fatalf("files left: %v", files)
		}
	})
}

func TestFirmwareSignedURL(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, newEnv(t, db))
		content := imageBytes(1, 200<<10)
		r := w.upload(t, w.tokens["admin"], imageForm(w.acme, "cat9k.bin", content)...)
		other := w.upload(t, w.tokens["admin"], imageForm(w.acme, "other.bin", imageBytes(2, 10))...)
		id, otherID := idOf(r.body), idOf(other.body)
		path := w.signedURL(t, id, 10*time.Minute)
		if !strings.HasSuffix(path, "/cat9k.bin") || !strings.HasPrefix(path, fmt.Sprintf("/firmware/%d/", id)) {
			t.Fatalf("path %s", path)
		}

		// No session needed: the exact bytes, and Range for a device that resumes.
		get := w.doAny(t, "GET", path, "")
		if get.status != 200 || get.raw != string(content) || get.header.Get("ETag") != `"`+hexSHA256(content)+`"` {
			t.Fatalf("GET: %d (%d bytes) etag %q", get.status, len(get.raw), get.header.Get("ETag"))
		}
		part := w.doAny(t, "GET", path, "", "Range", "bytes=1000-1999", "If-Range", `"`+hexSHA256(content)+`"`)
		if part.status != 206 || part.raw != string(content[1000:2000]) {
			t.Fatalf("Range: %d (%d bytes)", part.status, len(part.raw))
		}
		if h := w.doAny(t, "HEAD", path, ""); h.status != 200 || h.header.Get("Content-Length") != fmt.Sprint(len(content)) {
			t.Fatalf("HEAD: %d %v", h.status, h.header)
		}

		// Tampering with any part is a 403 that says nothing of the image.
		segs := strings.Split(path, "/") // "", firmware, id, expires, signature, filename
		flip := func(s string) string {
			b := []byte(s)
			b[len(b)-1] ^= 1
			return string(b)
		}
		set := func(i int, v string) string {
			s := append([]string(nil), segs...)
			s[i] = v
			return strings.Join(s, "/")
		}
		for name, p := range map[string]string{
			"signature":           set(4, flip(segs[4])),
			"short signature":     set(4, segs[4][:10]),
			"not hex":             set(4, "zz"+segs[4][2:]),
			"another image":       set(2, fmt.Sprint(otherID)),
			"an image not there":  set(2, "999999"),
			"a later expiry":      set(3, flip(segs[3])),
			"another file name":   set(5, "other.bin"),
			"expiry not a number": set(3, "soon"),
		} {
			t.Run(name, func(t *testing.T) { wantError(t, w.doAny(t, "GET", p, ""), 403, "forbidden") })
		}
		// Signed-in users get nothing more than anyone else.
		wantError(t, w.doAny(t, "GET", set(4, flip(segs[4])), "", as(w.root)...), 403, "forbidden")

		// Expired: the clock moves past it.
		w.clock.Advance(11 * time.Minute)
		wantError(t, w.doAny(t, "GET", path, ""), 403, "forbidden")
		fresh := w.signedURL(t, id, time.Minute)
		if g := w.doAny(t, "GET", fresh, ""); g.status != 200 {
			t.Fatalf("fresh URL: %d", g.status)
		}
		// A deleted image is gone, however well signed.
		if d := w.do(t, "DELETE", imagePath(id), "", as(w.tokens["admin"])...); d.status != 204 {
			t.Fatalf("delete: %d %s", d.status, d.raw)
		}
		wantError(t, w.doAny(t, "GET", fresh, ""), 404, "not_found")

		// Only webnet itself signs URLs, for at most a day.
		staff, err := w.id.AuthenticateToken(context.Background(), w.tokens["staff"])
		if err != nil {
			t.Fatal(err)
		}
		for _, ctx := range []context.Context{context.Background(), service.WithSubject(context.Background(), staff)} {
			if _, err := w.env.core.FirmwareURL(ctx, otherID, time.Minute); err == nil {
				t.Fatal("FirmwareURL without the system subject")
			}
		}
		sys := service.WithSubject(context.Background(), service.System())
		if _, err := w.env.core.FirmwareURL(sys, otherID, 25*time.Hour); err == nil {
			t.Fatal("a URL for 25 hours")
		}
	})
}

func TestFirmwareBrokenUploadsLeaveNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnvWith(t, db, func(c *httpapi.Config, _ *service.FeedConfig) { c.UploadIdleTimeout = 300 * time.Millisecond })
		w := newWorld(t, e)
		body, ctype := multipartBody(imageForm(w.acme, "x.bin", imageBytes(1, 600<<10))...)
		for _, stall := range []bool{false, true} {
			before := w.snapshot(t)
			conn, err := net.Dial("tcp", e.srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(conn, "POST /api/firmware-images/ HTTP/1.1\r\nHost: webnet.test\r\nAuthorization: Token %s\r\n"+
				"Content-Type: %s\r\nContent-Length: %d\r\n\r\n%s", w.tokens["admin"], ctype, len(body), body[:len(body)/2])
			// The upload is under way: its temporary file is there.
			waitFor(t, "a temporary file", func() bool { return len(w.firmwareDir(t)) == 1 })
			if stall {
				// Nothing more comes: the server gives up after the idle timeout.
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				answer, _ := io.ReadAll(conn)
				if !strings.Contains(string(answer), " 400 ") || !strings.Contains(string(answer), "stalled") {
					t.Errorf("stalled upload: %q", answer)
				}
			}
			conn.Close()
			waitFor(t, "no file left", func() bool { return len(w.firmwareDir(t)) == 0 })
			if changed := changedTables(before, w.snapshot(t)); len(changed) > 0 {
				t.Errorf("stalled %v: wrote %v", stall, changed)
			}
		}
	})
}

// waitFor polls cond for up to ten seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited 10s for %s", what)
		}
	}
}

// firmwareFiles describes the firmware directory of the data dir: every file (temporary
// ones included) with its size, so that a refused upload that left anything shows.
func (e *env) firmwareFiles(t testing.TB) string {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(e.dataDir, "firmware"))
	if err != nil {
		t.Fatalf("read the firmware directory: %v", err)
	}
	var files []string
	for _, de := range entries {
		info, err := de.Info()
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, fmt.Sprintf("%s (%d bytes)", de.Name(), info.Size()))
	}
	return fmt.Sprintf("%d files %v", len(files), files)
}

// isSignedDownload reports whether rt is the firmware download devices use: public, its
// authorization is the signature in its path.
func isSignedDownload(rt httpapi.Route) bool { return strings.HasPrefix(rt.Path, "/firmware/") }

// checkSignedDownload: globex's image by a URL webnet did not sign is a 403 for everybody,
// the same answer as for an image that does not exist (the signature is checked before
// anything is looked up), and writes nothing.
func (w *isoWorld) checkSignedDownload(t *testing.T, rt httpapi.Route) {
	t.Helper()
	path := strings.NewReplacer("{id}", fmt.Sprint(w.objs[kFirmwareImage][0]), "{expires}", fmt.Sprint(w.clock.Now().Add(time.Hour).Unix()),
		"{signature}", strings.Repeat("0", 64), "{filename}", "globex-ios.bin").Replace(rt.Path)
	if strings.Contains(path, "{") {
		t.Errorf("route %s %s: a parameter this check does not know", rt.Method, rt.Path)
		return
	}
	for _, caller := range w.callers {
		w.refused(t, caller, rt.Method, path, "", 403, "forbidden")
	}
}

func TestFirmwareSignatureNotLogged(t *testing.T) {
	e := newEnv(t, storetest.Open(t, store.SQLite))
	w := newWorld(t, e)
	r := w.upload(t, w.tokens["admin"], imageForm(w.acme, "cat9k.bin", imageBytes(1, 100))...)
	path := w.signedURL(t, idOf(r.body), time.Minute)
	var logs bytes.Buffer
	srv := httptest.NewServer(httpapi.Wrap(httpapi.JSONFallback(e.mux),
		httpapi.MiddlewareConfig{Identity: e.id, Logger: slog.New(slog.NewJSONHandler(&logs, nil))}))
	defer srv.Close()
	for _, p := range []string{path, strings.Replace(path, "/cat9k.bin", "/other.bin", 1)} {
		resp, err := http.Get(srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	sig := strings.Split(path, "/")[4]
	if strings.Contains(logs.String(), sig) || strings.Count(logs.String(), `[redacted]/cat9k.bin`) != 1 {
		t.Fatalf("access log: %s", logs.String())
	}
}
