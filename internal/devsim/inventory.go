package devsim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
)

// InventoryCredential is the name under which the inventory refers to the fleet's login, so
// that an import creates one credential and points every device at it.
const InventoryCredential = "devsim"

// Inventory is the JSON inventory of a fleet, for "webnet devsim --inventory json" and for
// importing the fleet into webnet (POST /api/devices/import/ takes name, address, port,
// platform and a credential by name). Simulated is always true: the credential is the
// simulator's own test login, never a real one.
type Inventory struct {
	Simulated  bool              `json:"simulated"`
	Seed       uint64            `json:"seed"`
	Credential InventoryLogin    `json:"credential"`
	Devices    []InventoryDevice `json:"devices"`
}

// InventoryLogin is the fleet's one login.
type InventoryLogin struct {
	Name     string `json:"name"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// InventoryDevice is one device of the inventory.
type InventoryDevice struct {
	Name               string `json:"name"`
	Address            string `json:"address"`
	Port               int    `json:"port"`
	Platform           string `json:"platform"`
	Credential         string `json:"credential"`
	HostKeyFingerprint string `json:"host_key_fingerprint"`
	Model              string `json:"model"`
	Serial             string `json:"serial"`
	Version            string `json:"version"`
}

// Inventory describes the fleet for import.
func (f *Fleet) Inventory() Inventory {
	inv := Inventory{Simulated: true, Seed: f.cfg.Seed,
		Credential: InventoryLogin{Name: InventoryCredential, Username: f.cfg.Username, Password: f.cfg.Password}}
	for _, i := range f.Devices() {
		inv.Devices = append(inv.Devices, InventoryDevice{
			Name: i.Name, Address: i.Address, Port: i.Port, Platform: i.Platform, Credential: InventoryCredential,
			HostKeyFingerprint: i.HostKeyFingerprint, Model: i.Model, Serial: i.Serial, Version: i.Version,
		})
	}
	return inv
}

// CSVHeader is the header row of the CSV inventory: the columns of webnet's device import.
// device_group is left empty for the importer to fill.
var CSVHeader = []string{"name", "address", "port", "platform", "device_group", "credential"}

// importRow is one device in the JSON form of webnet's device import.
type importRow struct {
	Name       string `json:"name"`
	Address    string `json:"address"`
	Port       int    `json:"port"`
	Platform   string `json:"platform"`
	Credential string `json:"credential"`
}

// WriteInventory writes the fleet's devices in the format of webnet's device import
// (POST /api/devices/import/, webnet import): "json" ({"devices": [...]}) or "csv"
// (CSVHeader then one row per device). Every device refers to the credential named
// InventoryCredential, which the importing customer must have (Inventory() has its login);
// the login itself is not written, so the file can be imported as it is.
func (f *Fleet) WriteInventory(w io.Writer, format string) error {
	inv := f.Inventory()
	switch format {
	case "json":
		doc := struct {
			Devices []importRow `json:"devices"`
		}{Devices: []importRow{}}
		for _, d := range inv.Devices {
			doc.Devices = append(doc.Devices, importRow{Name: d.Name, Address: d.Address, Port: d.Port, Platform: d.Platform, Credential: d.Credential})
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return fmt.Errorf("write inventory: %w", err)
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(CSVHeader)
		for _, d := range inv.Devices {
			_ = cw.Write([]string{d.Name, d.Address, strconv.Itoa(d.Port), d.Platform, "", d.Credential})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write inventory: %w", err)
		}
		return nil
	}
	return fmt.Errorf("inventory format %q is not json or csv", format)
}
