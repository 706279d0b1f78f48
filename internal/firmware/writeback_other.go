//go:build !linux

package firmware

import "os"

// writeback writes a file; elsewhere than Linux the kernel's own writeback decides when the
// bytes reach the disk, and Receive's final sync waits for what is left.
type writeback struct{ f *os.File }

func newWriteback(f *os.File) *writeback { return &writeback{f: f} }

func (w *writeback) write(p []byte) error {
	_, err := w.f.Write(p)
	return err
}
