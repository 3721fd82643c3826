package agent

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"modmatrix.dev/modmatrix/harness/protocol"
)

func TestParseKmsg(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want protocol.Kmsg
		ok   bool
	}{
		{
			name: "plain",
			raw:  "6,162,1280441,-;hi module being loaded.\n",
			want: protocol.Kmsg{Seq: 162, Level: 6, TimeUS: 1280441, Text: "hi module being loaded."},
			ok:   true,
		},
		{
			// One printk record with an inner newline, escaped by /dev/kmsg.
			name: "escaped newline",
			raw:  "4,170,2034000,-;do_init_module: 'positive'->init suspiciously returned 42, it should follow 0/-E convention\\x0ado_init_module: loading module anyway...\n",
			want: protocol.Kmsg{Seq: 170, Level: 4, TimeUS: 2034000, Text: "do_init_module: 'positive'->init suspiciously returned 42, it should follow 0/-E convention\ndo_init_module: loading module anyway..."},
			ok:   true,
		},
		{
			name: "facility and dictionary",
			raw:  "12,5,100,c,caller=T1;text\n SUBSYSTEM=virtio\n",
			want: protocol.Kmsg{Seq: 5, Level: 4, TimeUS: 100, Text: "text", Caller: "T1"},
			ok:   true,
		},
		{
			// kernel/printk/printk.c info_print_ext_header: ",caller=C%u"
			// for a record printed in interrupt context.
			name: "interrupt context",
			raw:  "1,412,5140900,-,caller=C1;BUG: unable to handle page fault for address: ffffffffc0002010\n",
			want: protocol.Kmsg{Seq: 412, Level: 1, TimeUS: 5140900, Text: "BUG: unable to handle page fault for address: ffffffffc0002010", Caller: "C1"},
			ok:   true,
		},
		{name: "garbage", raw: "no header here"},
		{name: "bad seq", raw: "6,x,1,-;text"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := ParseKmsg(tc.raw)
			assert.Equal(t, tc.ok, ok)
			assert.Equal(t, tc.want, got)
		})
	}
}

func TestUnescapeKmsg(t *testing.T) {
	assert.Equal(t, "a\\xZZ", unescapeKmsg("a\\xZZ"))
	assert.Equal(t, "tail\\x4", unescapeKmsg("tail\\x4"))
	assert.Equal(t, "a\tb", unescapeKmsg("a\\x09b"))
}
