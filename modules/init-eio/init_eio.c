// SPDX-License-Identifier: GPL-2.0
/*
 * An init routine that fails the conventional way, with -EIO: finit_module
 * returns EIO and the loader frees the module (no /proc/modules line, no
 * /sys/module/init_eio). The loader itself prints nothing.
 */
#include <linux/errno.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init init_eio_init(void)
{
	pr_info("init_eio: init returns -EIO\n");
	return -EIO;
}

/* Never runs; lets a kernel that wrongly kept the module unload it. */
static void __exit init_eio_exit(void)
{
}

module_init(init_eio_init);
module_exit(init_eio_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix init-eio: init returns -EIO, load fails with EIO");
