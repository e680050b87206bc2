/*-------------------------------------------------------------------------
 *
 * catalog_hooks.h
 *	  Hooks on roles (DROP, RENAME) and on the extension itself.
 *
 * src/backend/catalog_hooks.h
 *
 *-------------------------------------------------------------------------
 */
#ifndef PGPOOL_CATALOG_HOOKS_H
#define PGPOOL_CATALOG_HOOKS_H

extern void CatalogHooksInstall(void);

#endif							/* PGPOOL_CATALOG_HOOKS_H */
