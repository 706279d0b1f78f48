package firmware

import (
	"os"

	"golang.org/x/sys/unix"
)

// writeBehind is how far behind the newest write the writer waits for the disk: the bytes in
// between are on their way to it. It bounds the dirty pages an upload holds and lets the final
// sync find almost nothing left to write.
const writeBehind = 32 << 20

// writeback writes a file and starts writing each chunk to disk as soon as it is written
// (sync_file_range), instead of letting the kernel collect gigabytes of dirty pages that the
// final sync would then write while the client waits: the transfer and the disk work at the
// same time. It is only about speed; durability is still Receive's final fsync.
type writeback struct {
	f        *os.File
	off      int64 // bytes written
	waitedTo int64 // bytes known to be on disk
	hint     bool  // false once the file system refused sync_file_range: plain writes then
}

func newWriteback(f *os.File) *writeback { return &writeback{f: f, hint: true} }

func (w *writeback) write(p []byte) error {
	if _, err := w.f.Write(p); err != nil {
		return err
	}
	start := w.off
	w.off += int64(len(p))
	if !w.hint {
		return nil
	}
	fd := int(w.f.Fd())
	if err := unix.SyncFileRange(fd, start, int64(len(p)), unix.SYNC_FILE_RANGE_WRITE); err != nil {
		w.hint = false // not supported here (some network and FUSE file systems)
		return nil
	}
	if behind := w.off - writeBehind; behind > w.waitedTo {
		if err := unix.SyncFileRange(fd, w.waitedTo, behind-w.waitedTo,
			unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER); err != nil {
			w.hint = false
			return nil
		}
		w.waitedTo = behind
	}
	return nil
}
