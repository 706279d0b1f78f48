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

// CSVHeader is the header row of the CSV inventory. device_group is left empty for the
// importer to fill; simulated is "true" on every row.
var CSVHeader = []string{"name", "address", "port", "platform", "device_group", "credential", "username", "password", "simulated"}

// WriteInventory writes the fleet's inventory as "json" (an Inventory) or "csv" (CSVHeader
// then one row per device).
func (f *Fleet) WriteInventory(w io.Writer, format string) error {
	inv := f.Inventory()
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(inv); err != nil {
			return fmt.Errorf("write inventory: %w", err)
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		_ = cw.Write(CSVHeader)
		for _, d := range inv.Devices {
			_ = cw.Write([]string{d.Name, d.Address, strconv.Itoa(d.Port), d.Platform, "", d.Credential,
				inv.Credential.Username, inv.Credential.Password, "true"})
		}
		cw.Flush()
		if err := cw.Error(); err != nil {
			return fmt.Errorf("write inventory: %w", err)
		}
		return nil
	}
	return fmt.Errorf("inventory format %q is not json or csv", format)
}
