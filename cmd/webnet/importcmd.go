package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"webnet/internal/service"
	"webnet/internal/webnet"
)

// importDevices is `webnet import`: the API's device import from a file, as the system.
func (c cli) importDevices(ctx context.Context, args []string) error {
	fs := newFlagSet("import", "Import devices into a customer from a CSV or JSON file (the format of\n"+
		"POST /api/devices/import/, and what `webnet devsim --inventory` prints), all or nothing.\n"+
		"Every bad row is reported; nothing is written unless every row is good.")
	customer := fs.Int64("customer", 0, "the customer's id (required)")
	file := fs.String("file", "", "the CSV or JSON file; - for standard input (required)")
	format := fs.String("format", "", "csv or json (default: from the file's extension)")
	dryRun := fs.Bool("dry-run", false, "check everything, write nothing")
	e, err := c.openAdmin(ctx, fs, args, false)
	if err != nil {
		return err
	}
	defer e.Close()
	if *customer <= 0 || *file == "" {
		return usageError{errors.New("--customer and --file are required")}
	}
	f := *format
	if f == "" {
		f = strings.TrimPrefix(strings.ToLower(filepath.Ext(*file)), ".")
	}
	var data []byte
	if *file == "-" {
		data, err = readAllLimited(c.stdin)
	} else {
		var fh *os.File
		if fh, err = os.Open(*file); err == nil {
			data, err = readAllLimited(fh)
			fh.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", *file, err)
	}
	var rows []service.ImportRow
	switch f {
	case "csv":
		rows, err = service.ParseImportCSV(strings.NewReader(string(data)))
	case "json":
		rows, err = service.ParseImportJSON(data)
	default:
		return usageError{fmt.Errorf("--format: say csv or json (the file's extension is %q)", f)}
	}
	res, err := e.core.ImportDevices(e.sys, service.ImportRequest{Customer: *customer, DryRun: *dryRun, Rows: rows, BodyErr: err})
	if err != nil {
		var we *webnet.Error
		if errors.As(err, &we) {
			if bad, ok := we.Extra["rows"].([]service.RowError); ok {
				for _, r := range bad {
					fmt.Fprintf(c.stderr, "row %d (%s): %v\n", r.Row, r.Name, r.Errors)
				}
			}
		}
		return err
	}
	if res.DryRun {
		fmt.Fprintf(c.stdout, "dry run: all %d devices are good; nothing was written\n", len(rows))
		return nil
	}
	fmt.Fprintf(c.stdout, "imported %d devices\n", res.Created)
	return nil
}

// readAllLimited reads at most 10 MiB, like the API.
func readAllLimited(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, 10<<20+1))
	if err == nil && len(data) > 10<<20 {
		return nil, errors.New("larger than 10 MiB")
	}
	return data, err
}
