package verdict

import (
	"regexp"
	"slices"
	"strconv"
	"strings"

	"modmatrix.dev/modmatrix/harness/kreport"
	"modmatrix.dev/modmatrix/harness/protocol"
)

// moduleSpan is where a loaded module lived, from its /proc/modules line
// recorded while it was live: once unloaded, kmemleak prints its frames as
// bare addresses.
type moduleSpan struct {
	name       string
	base, size uint64
	// at is the step the leak is attributed to: the unload that made the
	// module's objects unreferenced, else the load.
	at stepRef
	// tids ran the loads: module addresses are reused within a boot, and
	// kmemleak names the allocating thread ("pid N"). A loop step's
	// iterations that loaded the module at the same place share one span.
	tids []int
	// load orders the spans by their latest load: of the spans that hold
	// an address, the latest loaded there wins.
	load int
	// loadedBy is the step whose load made or last renewed the span.
	loadedBy stepRef
}

type stepRef struct {
	scenario string
	index    int
}

// parseProcModules reads name, size and base address from a line such as
// "hello 12288 0 - Live 0xffffffffa0000000 (O)".
func parseProcModules(line string) (name string, size, base uint64, ok bool) {
	f := strings.Fields(line)
	if len(f) < 6 {
		return "", 0, 0, false
	}
	size, err1 := strconv.ParseUint(f[1], 10, 64)
	base, err2 := strconv.ParseUint(strings.TrimPrefix(f[5], "0x"), 16, 64)
	return f[0], size, base, err1 == nil && err2 == nil && base != 0
}

// moduleSpans lists the modules a boot loaded, in the order it ran them.
func moduleSpans(order []string, by map[string]*scenarioEvents) []moduleSpan {
	var spans []moduleSpan
	byName := map[string][]int{} // module → indexes of its spans
	newest := map[string][]int{} // module → indexes of its latest load's spans
	loads := 0
	// add records the spans of one load; when the same step (a loop's
	// iteration) loaded the module at the same place as its latest load,
	// it renews those instead: a --repeat of thousands keeps a few spans.
	add := func(load []moduleSpan) {
		name := load[0].name
		if prev := newest[name]; len(prev) == len(load) && slices.EqualFunc(prev, load, func(j int, sp moduleSpan) bool {
			return spans[j].loadedBy == sp.loadedBy && spans[j].base == sp.base && spans[j].size == sp.size
		}) {
			for k, j := range prev {
				old := &spans[j]
				old.at, old.load = load[k].at, load[k].load
				old.tids = append(old.tids, load[k].tids...)
			}
			return
		}
		newest[name] = nil
		for _, sp := range load {
			newest[name] = append(newest[name], len(spans))
			byName[name] = append(byName[name], len(spans))
			spans = append(spans, sp)
		}
	}
	for _, sc := range order {
		ev := by[sc]
		if ev == nil {
			continue
		}
		// A loop step's loads and unloads are its iterations'.
		for _, ir := range withIterations(ev.steps) { // stress.go
			i, st := ir.index, ir.result
			switch {
			case st.Step.Action == protocol.ActionLoad && st.Errno == "" && st.Error == "":
				name, size, base, ok := parseProcModules(st.ProcModules)
				if !ok {
					continue
				}
				loads++
				at := stepRef{sc, i}
				load := []moduleSpan{{name: name, base: base, size: size, at: at, tids: []int{st.TID}, load: loads, loadedBy: at}}
				// init's frames (the allocation in init) sit in .init.text,
				// apart from the core and freed after init: its size is
				// gone by then, so a few pages stand for it.
				if init, err := strconv.ParseUint(strings.TrimPrefix(st.Sysfs["sections/.init.text"], "0x"), 16, 64); err == nil && init != 0 {
					load = append(load, moduleSpan{name: name, base: init, size: initTextSpan, at: at, tids: []int{st.TID}, load: loads, loadedBy: at})
				}
				add(load)
			case st.Step.Action == protocol.ActionUnload && st.Errno == "" && st.Error == "":
				for _, j := range byName[st.Step.Module] {
					spans[j].at = stepRef{sc, i}
				}
			}
		}
	}
	return spans
}

// initTextSpan is how far past .init.text's start a frame is taken as the
// module's init code (test modules' init code is far smaller).
const initTextSpan = 4 * 4096

var frameAddr = regexp.MustCompile(`(?:\[<|0x)([0-9a-f]{16})`)

// leakReports attributes the kmemleak reports of a boot to the step that
// made each object unreferenced, naming the module whose span holds a
// frame of its backtrace. Leaks no module accounts for are returned apart.
func leakReports(events []protocol.Event, spans []moduleSpan) (map[stepRef][]Report, []Report) {
	attributed := map[stepRef][]Report{}
	var loose []Report
	for _, e := range events {
		if e.Kind != protocol.EventKmemleak || e.Kmemleak == "" {
			continue
		}
		for _, rep := range kreport.ParseConsole([]byte(e.Kmemleak)) {
			if rep.Kind != kreport.KindLeak {
				continue
			}
			v := toReport(rep)
			span := spanOf(rep.Text, spans, allocatingTID(rep.Text))
			if span == nil {
				loose = append(loose, v)
				continue
			}
			if !slices.Contains(v.Modules, span.name) {
				v.Modules = append(v.Modules, span.name)
			}
			if !strings.Contains(v.Title, " in ") {
				// No frame named a function (6.1 prints no allocator
				// frames): the module is the best name there is.
				v.Title += " in " + span.name
			}
			attributed[span.at] = append(attributed[span.at], v)
		}
	}
	return attributed, loose
}

// spanOf finds the module whose recorded range holds a frame of the
// backtrace. Several modules of a boot may have used that address (the
// module area is reused): the one whose load ran in the allocating thread
// (tid) wins, else the last one loaded there.
func spanOf(text string, spans []moduleSpan, tid int) *moduleSpan {
	for _, m := range frameAddr.FindAllStringSubmatch(text, -1) {
		addr, err := strconv.ParseUint(m[1], 16, 64)
		if err != nil {
			continue
		}
		var last *moduleSpan
		for i := range spans {
			sp := &spans[i]
			if addr >= sp.base && addr < sp.base+sp.size {
				if tid != 0 && slices.Contains(sp.tids, tid) {
					return sp
				}
				if last == nil || sp.load >= last.load {
					last = sp
				}
			}
		}
		if last != nil {
			return last
		}
	}
	return nil
}

var pidRE = regexp.MustCompile(`comm "[^"]*", pid (\d+)`)

// allocatingTID reads the thread kmemleak names in "comm "uinit", pid 32".
func allocatingTID(text string) int {
	m := pidRE.FindStringSubmatch(text)
	if m == nil {
		return 0
	}
	tid, _ := strconv.Atoi(m[1])
	return tid
}
