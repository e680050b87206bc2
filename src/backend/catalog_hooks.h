/*-------------------------------------------------------------------------
 *
 * catalog_hooks.h
 *	  Hooks on roles (DROP, RENAME) and on the extension itself.
 *
 * src/catalog_hooks.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CATALOG_HOOKS_H
#define PGPOOL_CATALOG_HOOKS_H

extern void PoolInstallCatalogHooks(void);

#endif							/* PGPOOL_CATALOG_HOOKS_H */
