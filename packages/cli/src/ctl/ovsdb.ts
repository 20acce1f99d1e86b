/**
 * What the ctl tools use of @ovnts/ovsdb's data model (values, schemas, errors), imported
 * through this one module. Resolving a package specifier ("@ovnts/ovsdb/...") costs Node's
 * ES module loader a few milliseconds for every module that names one (a walk through
 * node_modules and the package's exports), against a fraction of one for a relative path: one
 * resolution here instead of one in each of the thirty modules that need these saves a large
 * part of a one-shot `ovnts nbctl`'s start-up.
 */
export * from '@ovnts/ovsdb/dist/src/datum.js';
export * from '@ovnts/ovsdb/dist/src/schema.js';
export * from '@ovnts/ovsdb/dist/src/error.js';
