package httpapi_test

import (
	"fmt"
	"strings"
	"testing"
)

// addFirmwareCases adds the firmware repository's refusals to TestDeviceSideBadInput. Each
// one is checked there like every other case: its status, code and field, no table changed
// and, through the snapshot, no file added to or left in the firmware directory (temporary
// ones included).
func addFirmwareCases(t *testing.T, add func(string, ...badCase), w *isoWorld) {
	t.Helper()
	const path, missing = "/api/firmware-images/", 999999
	A, G := w.acme, w.globex
	existing := imageBytes(200, 3000)
	acmeImage := w.upload(t, w.tokens["admin"], imageForm(A, "acme-ios.bin", existing)...)
	if acmeImage.status != 201 {
		t.Fatalf("set-up upload: %d %s", acmeImage.status, acmeImage.raw)
	}
	var global int64
	for _, img := range w.list(t, w.root, "/api/firmware-images/?global=true") {
		global = idOf(img)
	}
	w.lastAudit = w.maxAuditID(t)

	content := imageBytes(201, 2000)
	// form is a valid upload to acme with parts changed: a part named like one of the valid
	// form's replaces it, "-name" removes it, others are added before the file.
	form := func(changes ...formPart) badCase {
		parts := imageForm(A, "new.bin", content)
		for _, c := range changes {
			name, drop := strings.CutPrefix(c.name, "-")
			replaced := false
			for i, p := range parts {
				if p.name == name {
					if drop {
						parts = append(parts[:i], parts[i+1:]...)
					} else {
						parts[i] = c
					}
					replaced = true
					break
				}
			}
			if !replaced && !drop {
				parts = append(parts[:len(parts)-1], c, parts[len(parts)-1])
			}
		}
		body, ctype := multipartBody(parts...)
		return badCase{path: path, body: body, ctype: ctype}
	}
	with := func(c badCase, name, who string, status int, code, field string, denied int) badCase {
		c.name, c.who, c.status, c.code, c.field, c.denied = name, who, status, code, field, denied
		return c
	}
	fileAfter, ctype := multipartBody(append(imageForm(A, "new.bin", content), field("golden", "true"))...)
	add("POST "+path,
		with(form(field("-platform", "")), "missing platform", "", 400, "invalid", "platform", 0),
		with(form(field("platform", "cisco_ios")), "unknown platform", "", 400, "invalid", "platform", 0),
		with(form(field("-version", "")), "missing version", "", 400, "invalid", "version", 0),
		with(form(field("version", "17.12 03")), "version with a space", "", 400, "invalid", "version", 0),
		with(form(field("version", strings.Repeat("1", 2000))), "version too long", "", 400, "invalid", "version", 0),
		with(form(field("filename", "../webnet.db")), "file name with a path", "", 400, "invalid", "filename", 0),
		with(form(filePart("my image.bin", content)), "the file's own name with a space", "", 400, "invalid", "filename", 0),
		with(form(field("model", "C9300 48P")), "model with a space", "", 400, "invalid", "model", 0),
		with(form(field("golden", "maybe")), "golden not a boolean", "", 400, "invalid", "golden", 0),
		with(form(field("customer", "acme")), "customer a name", "", 400, "invalid", "customer", 0),
		with(form(field("customer", "0")), "customer zero", "", 400, "invalid", "customer", 0),
		with(form(field("colour", "red")), "unknown field", "", 400, "invalid", "colour", 0),
		with(form(field("-file", "")), "no file", "", 400, "invalid", "file", 0),
		with(form(filePart("new.bin", nil)), "empty file", "", 400, "invalid", "file", 0),
		with(form(filePart("new.bin", imageBytes(202, testFirmwareMaxSize+1))), "file over the limit", "", 413, "body_too_large", "file", 0),
		with(form(filePart("again.bin", existing)), "the same content as acme's image", "", 409, "conflict", "", 0),
		badCase{name: "a field after the file", path: path, body: fileAfter, ctype: ctype, status: 400, code: "invalid", field: "golden"},
		badCase{name: "a field given twice", path: path, body: strings.Replace(fileAfter, "name=\"golden\"", "name=\"version\"", 1),
			ctype: ctype, status: 400, code: "invalid", field: "version"},
		badCase{name: "malformed multipart", path: path, body: "--" + testBoundary + "\r\nno headers end", ctype: ctype, status: 400, code: "invalid"},
		badCase{name: "JSON", path: path, body: fmt.Sprintf(`{"customer":%d,"platform":"cisco_iosxe"}`, A), status: 415, code: "unsupported_type"},
		// 404 → 403 → 400: a caller who may not upload learns nothing about the form.
		with(form(field("version", "")), "viewer, invalid form", "viewer", 403, "forbidden", "", 1),
		with(form(field("colour", "red")), "viewer, unknown field", "viewer", 403, "forbidden", "", 1),
		with(form(), "operator", "operator", 403, "forbidden", "", 1),
		with(form(field("colour", "red")), "outsider, unknown field", "outsider", 404, "not_found", "customer", 0),
		with(form(field("customer", fmt.Sprint(G))), "customer globex", "", 404, "not_found", "customer", 0),
		with(form(field("customer", fmt.Sprint(missing))), "no such customer", "", 404, "not_found", "customer", 0),
		with(form(), "globex's admin into acme", "globexadm", 404, "not_found", "customer", 0),
		with(form(field("-customer", "")), "admin, a global image", "", 403, "forbidden", "", 1),
		with(form(field("-customer", ""), field("colour", "red")), "admin, a global image, unknown field", "", 403, "forbidden", "", 1),
	)

	acme := imagePath(idOf(acmeImage.body))
	gx := imagePath(w.objs[kFirmwareImage][0])
	add("PATCH /api/firmware-images/{id}/",
		badCase{name: "unknown field", method: "PATCH", path: acme, body: `{"platform":"arista_eos"}`, status: 400, code: "invalid", field: "platform"},
		badCase{name: "golden a string", method: "PATCH", path: acme, body: `{"golden":"yes"}`, status: 400, code: "invalid", field: "golden"},
		badCase{name: "model with a space", method: "PATCH", path: acme, body: `{"model":"C9300 48P"}`, status: 400, code: "invalid", field: "model"},
		badCase{name: "valid golden, invalid model: nothing half-written", method: "PATCH", path: acme, body: `{"golden":true,"model":"-x"}`, status: 400, code: "invalid", field: "model"},
		badCase{name: "empty body", method: "PATCH", path: acme, body: ``, status: 400, code: "invalid"},
		badCase{name: "viewer, unknown field", who: "viewer", method: "PATCH", path: acme, body: `{"colour":"red"}`, status: 403, code: "forbidden", denied: 1},
		badCase{name: "outsider", who: "outsider", method: "PATCH", path: acme, body: `{"golden":true}`, status: 404, code: "not_found"},
		badCase{name: "globex's image", method: "PATCH", path: gx, body: `{"golden":true}`, status: 404, code: "not_found"},
		badCase{name: "a global image", method: "PATCH", path: imagePath(global), body: `{"golden":true}`, status: 403, code: "forbidden", denied: 1},
		badCase{name: "no such image", method: "PATCH", path: imagePath(missing), body: `{"golden":true}`, status: 404, code: "not_found"},
	)
	add("DELETE /api/firmware-images/{id}/",
		badCase{name: "viewer", who: "viewer", method: "DELETE", path: acme, status: 403, code: "forbidden", denied: 1},
		badCase{name: "operator", who: "operator", method: "DELETE", path: acme, status: 403, code: "forbidden", denied: 1},
		badCase{name: "globex's image", method: "DELETE", path: gx, status: 404, code: "not_found"},
		badCase{name: "a global image", method: "DELETE", path: imagePath(global), status: 403, code: "forbidden", denied: 1},
		badCase{name: "no such image", method: "DELETE", path: imagePath(missing), status: 404, code: "not_found"},
	)
}
