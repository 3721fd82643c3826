// SPDX-License-Identifier: GPL-2.0
/*
 * agent_killed: init sends SIGKILL to the process loading it and succeeds.
 * The kernel prints nothing; the agent simply dies on its way out of
 * finit_module, in the middle of a step.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/sched/signal.h>

static int __init agent_killed_init(void)
{
	pr_info("agent_killed: killing pid %d (%s)\n", task_tgid_nr(current), current->comm);
	send_sig(SIGKILL, current, 0);
	return 0;
}

static void __exit agent_killed_exit(void)
{
}

module_init(agent_killed_init);
module_exit(agent_killed_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("modmatrix test: init kills the process that loads it");
