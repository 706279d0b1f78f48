package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"webnet/internal/webnet"
)

// DefaultMaxBody caps JSON request bodies.
const DefaultMaxBody = 1 << 20

// decode reads the request's JSON body into dst strictly: the body must be JSON (by
// Content-Type, when one is given), at most maxBody bytes, one value, with no field dst does
// not have. Every failure is a client error with a sentence saying what is wrong.
func decode(w http.ResponseWriter, r *http.Request, maxBody int64, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return webnet.Errorf(webnet.EUnsupported, "Request body must be JSON (Content-Type: application/json).")
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return decodeError(err, maxBody)
	}
	if err := dec.Decode(&struct{}{}); !errors.Is(err, io.EOF) {
		if err != nil {
			if e := decodeError(err, maxBody); webnet.ErrorCode(e) == webnet.ETooLarge {
				return e
			}
		}
		return webnet.Errorf(webnet.EInvalid, "Request body must hold a single JSON value.")
	}
	return nil
}

func decodeError(err error, maxBody int64) error {
	var (
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		maxErr    *http.MaxBytesError
		fieldName string
	)
	switch {
	case errors.As(err, &maxErr):
		return webnet.Errorf(webnet.ETooLarge, "Request body too large (limit %d bytes).", maxBody)
	case errors.Is(err, io.EOF):
		return webnet.Errorf(webnet.EInvalid, "Request body is empty; JSON expected.")
	case errors.As(err, &syntax), errors.Is(err, io.ErrUnexpectedEOF):
		return webnet.Errorf(webnet.EInvalid, "Malformed JSON in request body.")
	case errors.As(err, &typeErr):
		fieldName = typeErr.Field
		if fieldName == "" {
			return webnet.Errorf(webnet.EInvalid, "Request body must be a JSON object.")
		}
		return webnet.Invalid("Invalid value in request body.", map[string]string{
			fieldName: fmt.Sprintf("Expected a %s.", jsonKind(typeErr.Type.Kind().String())),
		})
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		name := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return webnet.Invalid("Unknown field in request body.", map[string]string{name: "Unknown field."})
	default:
		return webnet.Errorf(webnet.EInvalid, "Malformed JSON in request body.")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "string"
	case "bool":
		return "boolean"
	case "struct", "map":
		return "object"
	case "slice", "array":
		return "list"
	case "ptr":
		return "value"
	}
	return "number"
}

// errUnknownField is the error of a field the endpoint does not take.
func errUnknownField(name string) error {
	return webnet.Invalid("Unknown field in request body.", map[string]string{name: "Unknown field."})
}
