// A C2SP tlog-tiles reader built on Go's golang.org/x/mod/sumdb/tlog and
// sumdb/note (not hotline's code). The CLI test tiles.rs builds it in GOPATH
// mode against Debian's golang-golang-x-mod-dev, offline.
//
// Usage: tiles_reader PREFIX_URL TOKEN VKEY INDEX...
//
// It fetches PREFIX_URL/checkpoint, verifies its signature with VKEY, and
// for each INDEX proves inclusion from the served hash tiles (through
// tlog.TileHashReader, which authenticates every tile against the
// checkpoint's root) and checks the proof against the leaf hash it computes
// from the served entry bundle. Prints one line per index; exits 1 on the
// first failure.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

var prefix, token string

func get(path string) ([]byte, error) {
	req, err := http.NewRequest("GET", prefix+path, nil)
	if err != nil {
		return nil, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s: %s", path, resp.Status, body)
	}
	return body, nil
}

// c2sp maps Go's tile/H/L/N and tile/H/data/N to C2SP's tile/L/N and
// tile/entries/N (H is always 8).
func c2sp(t tlog.Tile) string {
	p := strings.TrimPrefix(t.Path(), "tile/8/")
	if strings.HasPrefix(p, "data/") {
		return "tile/entries/" + strings.TrimPrefix(p, "data/")
	}
	return "tile/" + p
}

type tiles struct{}

func (tiles) Height() int { return 8 }
func (tiles) ReadTiles(ts []tlog.Tile) ([][]byte, error) {
	out := make([][]byte, len(ts))
	for i, t := range ts {
		b, err := get(c2sp(t))
		if err != nil {
			return nil, err
		}
		out[i] = b
	}
	return out, nil
}
func (tiles) SaveTiles([]tlog.Tile, [][]byte) {}

func fail(f string, a ...interface{}) {
	fmt.Fprintf(os.Stderr, f+"\n", a...)
	os.Exit(1)
}

func main() {
	if len(os.Args) < 5 {
		fail("usage: tiles_reader PREFIX_URL TOKEN VKEY INDEX...")
	}
	prefix, token = os.Args[1], os.Args[2]
	v, err := note.NewVerifier(os.Args[3])
	if err != nil {
		fail("vkey: %v", err)
	}
	msg, err := get("checkpoint")
	if err != nil {
		fail("%v", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		fail("checkpoint: %v", err)
	}
	lines := strings.Split(n.Text, "\n")
	if len(lines) < 4 {
		fail("checkpoint: too few lines")
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		fail("checkpoint size: %v", err)
	}
	root, err := tlog.ParseHash(lines[2])
	if err != nil {
		fail("checkpoint hash: %v", err)
	}
	thr := tlog.TileHashReader(tlog.Tree{N: size, Hash: root}, tiles{})
	for _, a := range os.Args[4:] {
		index, err := strconv.ParseInt(a, 10, 64)
		if err != nil {
			fail("index %q: %v", a, err)
		}
		proof, err := tlog.ProveRecord(size, index, thr)
		if err != nil {
			fail("index %d: proving: %v", index, err)
		}
		w := size - index/256*256
		if w > 256 {
			w = 256
		}
		bundle, err := get(c2sp(tlog.Tile{H: 8, L: -1, N: index / 256, W: int(w)}))
		if err != nil {
			fail("index %d: %v", index, err)
		}
		var leaf []byte
		for i := int64(0); i <= index%256; i++ {
			if len(bundle) < 2 {
				fail("index %d: bundle too short", index)
			}
			l := int(binary.BigEndian.Uint16(bundle))
			if len(bundle) < 2+l {
				fail("index %d: bundle too short", index)
			}
			leaf, bundle = bundle[2:2+l], bundle[2+l:]
		}
		h := tlog.RecordHash(leaf)
		if err := tlog.CheckRecord(proof, size, root, index, h); err != nil {
			fail("index %d: %v", index, err)
		}
		fmt.Printf("%d %d %s %s\n", index, size, base64.StdEncoding.EncodeToString(h[:]), base64.StdEncoding.EncodeToString(leaf))
	}
}
