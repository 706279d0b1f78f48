package firmware

import (
	"context"
	"io"
)

// chunkSize is how much of an upload is read before it is handed on: large enough that system
// calls and hashing setup cost nothing, small enough to be constant memory.
const chunkSize = 1 << 20

// inFlight is how many chunks may be between the reader and the slowest stage.
const inFlight = 4

// pipeline streams chunks from a reader to stages that each run on their own goroutine, in
// order, while the reader goes on. Writing to the page cache and MD5 (the slowest hash, about
// 700 MB/s) each take about as long as everything else together: run one after the other,
// they would halve an upload's speed. Memory is inFlight chunks, whatever the size.
type pipeline struct {
	stages []*stage
	spare  [][]byte // buffers no stage holds
	queued [][]byte // buffers handed to the stages, oldest first
}

// stage is one consumer of every chunk.
type stage struct {
	fn   func([]byte) error
	in   chan []byte
	ack  chan error    // one per chunk consumed, in order: nil, or the stage's first error
	done chan struct{} // closed when the goroutine has returned
	err  error         // the first error of fn; read only after done
}

// startPipeline starts one goroutine per stage function. run stops them all before it
// returns, whatever happens, so nothing outlives the call.
func startPipeline(fns ...func([]byte) error) *pipeline {
	p := &pipeline{}
	for range inFlight {
		p.spare = append(p.spare, make([]byte, chunkSize))
	}
	for _, fn := range fns {
		st := &stage{fn: fn, in: make(chan []byte, inFlight), ack: make(chan error, inFlight), done: make(chan struct{})}
		p.stages = append(p.stages, st)
		go st.loop()
	}
	return p
}

func (st *stage) loop() {
	defer close(st.done)
	var err error
	for b := range st.in {
		// After an error the chunks are only acknowledged, so that the reader never blocks.
		if err == nil {
			err = st.fn(b)
		}
		st.ack <- err
	}
	st.err = err
}

// run reads r to its end in chunks, calling inline with each chunk on this goroutine and
// handing it to every stage, and returns the number of bytes read. It fails with ErrTooLarge
// past max bytes, with a stage's first error, or with r's or ctx's.
func (p *pipeline) run(ctx context.Context, r io.Reader, max int64, inline func([]byte)) (size int64, err error) {
	defer func() {
		for _, st := range p.stages {
			close(st.in)
		}
		for _, st := range p.stages {
			<-st.done
			if err == nil {
				err = st.err
			}
		}
	}()
	for {
		if err := ctx.Err(); err != nil {
			return size, err
		}
		if len(p.spare) == 0 {
			// Every buffer is out: wait until the oldest chunk has been through every stage.
			for _, st := range p.stages {
				if err := <-st.ack; err != nil {
					return size, err
				}
			}
			p.spare = append(p.spare, p.queued[0][:chunkSize])
			p.queued = p.queued[1:]
		}
		buf := p.spare[len(p.spare)-1]
		p.spare = p.spare[:len(p.spare)-1]
		// ReadFull gathers small reads (a multipart part yields a few KiB at a time) into
		// one chunk: one write and one hash update per MiB.
		n, rerr := io.ReadFull(r, buf)
		if n == 0 {
			p.spare = append(p.spare, buf)
		} else {
			if size += int64(n); size > max {
				return size, ErrTooLarge
			}
			chunk := buf[:n]
			inline(chunk)
			for _, st := range p.stages {
				st.in <- chunk
			}
			p.queued = append(p.queued, chunk)
		}
		if rerr == io.EOF || rerr == io.ErrUnexpectedEOF {
			return size, nil
		}
		if rerr != nil {
			return size, rerr
		}
	}
}
