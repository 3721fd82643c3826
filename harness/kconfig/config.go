package kconfig

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"sort"
	"strings"
)

// Config is a resolved .config: symbol (without CONFIG_) to "y", "m", "n"
// (written as "# CONFIG_X is not set") or the value, strings unquoted.
type Config map[string]string

// ParseConfig reads a resolved .config.
func ParseConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	c, err := ParseConfigData(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfigData parses .config text. Unlike a fragment, a .config is
// written by Kconfig, so lines it does not recognise are skipped rather than
// rejected.
func ParseConfigData(data []byte) (Config, error) {
	c := Config{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if m := notSetRe.FindStringSubmatch(line); m != nil {
			c[m[1]] = "n"
		} else if m := setRe.FindStringSubmatch(line); m != nil {
			c[m[1]] = unquote(m[2])
		}
	}
	return c, sc.Err()
}

// Value returns the symbol's value, "n" when it is not set or absent.
// sym may carry the CONFIG_ prefix.
func (c Config) Value(sym string) string {
	if v, ok := c[strings.TrimPrefix(sym, "CONFIG_")]; ok {
		return v
	}
	return "n"
}

// Enabled reports whether sym is "y" or "m".
func (c Config) Enabled(sym string) bool {
	v := c.Value(sym)
	return v == "y" || v == "m"
}

// Diff returns the sorted symbols whose values differ between c and other,
// treating absent as "n". Its length is the distance used to pick the
// nearest already built tree.
func (c Config) Diff(other Config) []string {
	var d []string
	for s := range c {
		if c.Value(s) != other.Value(s) {
			d = append(d, s)
		}
	}
	for s := range other {
		if _, ok := c[s]; !ok && other.Value(s) != "n" {
			d = append(d, s)
		}
	}
	sort.Strings(d)
	return d
}
