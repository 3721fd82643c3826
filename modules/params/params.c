// SPDX-License-Identifier: GPL-2.0
/*
 * Module parameters of four kinds (int, charp, bool, int array), all 0444 so
 * they show under /sys/module/params/parameters/. parse_args sets them from
 * finit_module's argument string before init runs: a value the parameter's
 * type rejects fails the load with EINVAL ("`abc' invalid for parameter
 * `count'"), while a parameter the module does not have is only warned
 * about ("unknown parameter 'bogus' ignored") and the load goes on.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/printk.h>

static int count;
module_param(count, int, 0444);
MODULE_PARM_DESC(count, "an int");

static char *name = "none";
module_param(name, charp, 0444);
MODULE_PARM_DESC(name, "a string");

static bool verbose;
module_param(verbose, bool, 0444);
MODULE_PARM_DESC(verbose, "a bool; sysfs shows Y or N");

static int values[4];
static int nvalues;
module_param_array(values, int, &nvalues, 0444);
MODULE_PARM_DESC(values, "up to four ints, comma-separated");

static int __init params_init(void)
{
	pr_info("params: count=%d name=%s verbose=%d nvalues=%d\n",
		count, name, verbose, nvalues);
	return 0;
}

static void __exit params_exit(void)
{
	pr_info("params: exit\n");
}

module_init(params_init);
module_exit(params_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix params: int, charp, bool and array parameters");
