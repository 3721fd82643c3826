// SPDX-License-Identifier: GPL-2.0
/*
 * The goto-unwinding init: three steps, each registering a misc device
 * (/dev/unwind_a, /dev/unwind_b, /dev/unwind_c). fail_at=N makes step N fail
 * with its own errno (1: -ENODEV, 2: -ENOSPC, 3: -ENXIO, none of which the
 * module loader itself returns); init then undoes the completed steps in
 * reverse order and returns that errno, which finit_module passes to
 * userspace. exit undoes all three, also in reverse order. No device may
 * outlive a failed load or an unload.
 */
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/init.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

static int fail_at;
module_param(fail_at, int, 0444);
MODULE_PARM_DESC(fail_at, "make init step N (1-3) fail; 0: no step fails");

static const struct file_operations unwind_fops = {
	.owner = THIS_MODULE,
};

static struct miscdevice unwind_devs[] = {
	{ .minor = MISC_DYNAMIC_MINOR, .name = "unwind_a", .fops = &unwind_fops },
	{ .minor = MISC_DYNAMIC_MINOR, .name = "unwind_b", .fops = &unwind_fops },
	{ .minor = MISC_DYNAMIC_MINOR, .name = "unwind_c", .fops = &unwind_fops },
};

/* The errno step N fails with when fail_at=N; index 0 is unused. */
static const int unwind_errno[] = { 0, -ENODEV, -ENOSPC, -ENXIO };

static int __init unwind_step(int n)
{
	int ret = n == fail_at ? unwind_errno[n] : misc_register(&unwind_devs[n - 1]);

	if (ret)
		pr_info("unwind: step %d failed\n", n);
	else
		pr_info("unwind: step %d done\n", n);
	return ret;
}

static void unwind_undo(int n)
{
	misc_deregister(&unwind_devs[n - 1]);
	pr_info("unwind: undo step %d\n", n);
}

static int __init unwind_init(void)
{
	int ret;

	ret = unwind_step(1);
	if (ret)
		goto out;
	ret = unwind_step(2);
	if (ret)
		goto undo_1;
	ret = unwind_step(3);
	if (ret)
		goto undo_2;
	return 0;

undo_2:
	unwind_undo(2);
undo_1:
	unwind_undo(1);
out:
	return ret;
}

static void __exit unwind_exit(void)
{
	unwind_undo(3);
	unwind_undo(2);
	unwind_undo(1);
}

module_init(unwind_init);
module_exit(unwind_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix unwind: a failing init undoes its completed steps in reverse");
