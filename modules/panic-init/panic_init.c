// SPDX-License-Identifier: GPL-2.0
/*
 * panic_init: init calls panic(). The kernel prints "Kernel panic - not
 * syncing: panic_init: …" and stops (panic=-1 reboots the guest at once):
 * no step after this one runs, and the agent reports nothing more.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/panic.h>

static int __init panic_init_init(void)
{
	panic("panic_init: giving up on purpose");
	return 0;
}

module_init(panic_init_init);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("init panics the kernel");
