/**
 * The server-rendered pages (Express): the platform's page on the main host, and each
 * business's pages on its own host (or path). The pages call the same domain modules as the
 * JSON API; forms post back, and every post redirects (303), a failed one to its form's page
 * with what was typed and the issues (form-flash.ts), so a reload never posts again.
 *
 * @module
 */
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import multer from 'multer';
import '../../../src/adapters/express.js';
import { isTenancyError, type TenancyError, tenantIdProblem } from '../../../src/index.js';
import { businessOf, createBusiness, listPlans } from '../domain/businesses.js';
import { createCategory, deleteCategory, listCategories, renameCategory } from '../domain/categories.js';
import { dashboard } from '../domain/dashboard.js';
import { InventoryError, invalidInput, isInventoryError } from '../domain/errors.js';
import { CSV_IMPORT_LIMITS, importProductsCsv, writeProductCsv } from '../domain/product-csv.js';
import {
  createProduct,
  deleteProduct,
  getProduct,
  listProductPage,
  parsePriceCents,
  parseProductFilter,
  parseProductPage,
  type Product,
  updateProduct,
} from '../domain/products.js';
import { requireOwner } from '../domain/roles.js';
import { createHandoff, redeemHandoff } from '../domain/session-handoffs.js';
import { endSession, findSession, type Session, startSession } from '../domain/sessions.js';
import { listMovements, recordMovement } from '../domain/stock.js';
import { changeRole, regenerateInviteCode, removeMember } from '../domain/team.js';
import { inviteCode, listUsers, logIn, sameSecret, signUp } from '../domain/users.js';
import { parseId, queryValue } from '../domain/validate.js';
import { type Inventory, PATH_PREFIX } from '../inventory.js';
import { categoriesPage } from '../views/categories.js';
import { dashboardPage } from '../views/dashboard.js';
import { errorPage } from '../views/errors.js';
import { loginPage, signupPage } from '../views/account.js';
import { blankForm, centsToInput, type FormState, type Frame } from '../views/layout.js';
import { platformPage } from '../views/platform.js';
import { productPage, productsPage } from '../views/products.js';
import { teamPage } from '../views/team.js';
import { basePathOf, businessUrl, pageQuery, platformUrl } from './request-info.js';
import { clearedFlashCookie, type Flash, FormFlashes, hasFlashCookie } from './form-flash.js';
import { clearedSessionCookie, type CookieScope, readSessionCookie, sessionCookie } from './session-cookie.js';

type Member = Frame & { readonly member: NonNullable<Frame['member']> };

/**
 * The page routes: `platform` for the main host (shared scope), `business` for a business's
 * host or path (tenant scope). Mount them after tenantry's middleware and a form body parser.
 *
 * @example
 * ```ts
 * const pages = pageRoutes(inventory);
 * app.use(onlyOn('platform', pages.platform), onlyOn('business', pages.business));
 * ```
 */
export function pageRoutes(inventory: Inventory): { platform: Router; business: Router } {
  const flashes = new FormFlashes();
  return { platform: platformRoutes(inventory, flashes), business: businessRoutes(inventory, flashes) };
}

/**
 * Post/Redirect/Get for failed forms (see form-flash.ts), for the platform (`owner` ``) or a
 * business: `fail` keeps the form and redirects to its page, `take` gives that page the form once.
 */
function formFlashes(inventory: Inventory, flashes: FormFlashes) {
  const scopeOf = (req: Request): CookieScope => ({ basePath: baseOf(req), secure: inventory.secureCookies });
  const ownerOf = (req: Request): string => req.tenant?.id ?? '';
  return {
    fail(req: Request, res: Response, path: string, form: string, error: InventoryError, state: FormState): void {
      res.append('Set-Cookie', flashes.put(ownerOf(req), { form, status: error.status, state }, scopeOf(req)));
      res.redirect(303, `${baseOf(req)}${path}`);
    },
    /** The failed form waiting for this page, one of `forms`; a flash for another form is dropped. */
    take(req: Request, res: Response, forms: readonly string[]): Flash | undefined {
      if (!hasFlashCookie(req.headers.cookie)) return undefined;
      res.append('Set-Cookie', clearedFlashCookie(scopeOf(req)));
      const flash = flashes.take(req.headers.cookie, ownerOf(req));
      return flash !== undefined && forms.includes(flash.form) ? flash : undefined;
    },
  };
}

/** The form's state from the flash when the flash is for this form. */
function stateOf(flash: Flash | undefined, form: string, otherwise: FormState): FormState {
  return flash?.form === form ? flash.state : otherwise;
}

function platformRoutes(inventory: Inventory, flashes: FormFlashes): Router {
  const router = express.Router();
  const flash = formFlashes(inventory, flashes);

  // What frames the address field: `` and `.localhost:3000`, or `127.0.0.1:3000/t/` and `/`.
  const address = (req: Request): { before: string; after: string } => {
    const home = businessUrl(inventory, req.headers.host, 'id');
    if (home.startsWith('/')) return { before: `${req.headers.host ?? ''}${PATH_PREFIX}/`, after: '/' };
    return { before: '', after: new URL(home).host.slice('id'.length) };
  };
  const show = async (req: Request, res: Response, status: number, forms: { open?: FormState } = {}): Promise<void> => {
    const failed = flash.take(req, res, ['signup']);
    const plans = await listPlans(inventory);
    const view = { plans, address: address(req), signup: stateOf(failed, 'signup', blankForm({ plan: 'free' })), open: forms.open ?? blankForm() };
    res.status(failed?.status ?? status).type('html').send(platformPage(view));
  };

  router.get('/', (req, res) => show(req, res, 200));

  router.post('/businesses', async (req, res) => {
    const form = formOf(req);
    try {
      const { business, owner } = await createBusiness(inventory, pick(form, ['id', 'name', 'plan', 'ownerName', 'email', 'password']));
      // The owner is logged in on the business's host: its cookie cannot be set from here (see session-handoffs.ts).
      const code = await inventory.tenancy.run(business.id, () => createHandoff(inventory, owner.id));
      res.redirect(303, businessUrl(inventory, req.headers.host, business.id, `/welcome?code=${code}`));
    } catch (error) {
      if (!isInventoryError(error) || error.status === 404) throw error;
      flash.fail(req, res, '/', 'signup', error, failedForm(form, error));
    }
  });

  router.get('/open', async (req, res) => {
    const id = (queryValue(req.query, 'business') ?? '').trim().toLowerCase();
    const problem = tenantIdProblem(id);
    const tenant = problem === undefined ? await inventory.tenancy.lookup(id) : undefined;
    if (tenant !== undefined) return res.redirect(303, businessUrl(inventory, req.headers.host, tenant.id, '/'));
    const issue = problem === undefined ? 'No business has this address' : problem;
    await show(req, res, problem === undefined ? 404 : 400, { open: { values: { business: id }, issues: { business: issue } } });
  });

  return router;
}

function businessRoutes(inventory: Inventory, flashes: FormFlashes): Router {
  const router = express.Router();
  const flash = formFlashes(inventory, flashes);
  const sessions = new WeakMap<Request, { session: Session; token: string }>();
  const scopeOf = (req: Request): CookieScope => ({ basePath: baseOf(req), secure: inventory.secureCookies });

  const frame = (req: Request, title = ''): Frame => {
    const found = sessions.get(req);
    const notice = queryValue(req.query, 'notice');
    return {
      title,
      base: baseOf(req),
      business: businessOf(req.tenant!),
      ...(found ? { member: { ...found.session.user, csrfToken: found.session.csrfToken } } : {}),
      ...(notice === undefined ? {} : { notice }),
    };
  };
  const memberFrame = (req: Request): Member => frame(req) as Member;
  const userOf = (req: Request): Session['user'] => sessions.get(req)!.session.user;
  const redirect = (req: Request, res: Response, path: string): void => res.redirect(303, `${baseOf(req)}${path}`);

  // The session of this business, if the request has one. A cookie of another business, an
  // expired or unknown token: not logged in (and a stale cookie is removed).
  router.use(async (req, res, next) => {
    const cookie = readSessionCookie(req.headers.cookie, req.tenant!.id);
    if (cookie.kind === 'token') {
      const session = await findSession(inventory, cookie.token);
      if (session === undefined) res.append('Set-Cookie', clearedSessionCookie(scopeOf(req)));
      else sessions.set(req, { session, token: cookie.token });
    }
    next();
  });
  const signedIn = (req: Request, res: Response, next: NextFunction): void => (sessions.has(req) ? next() : redirect(req, res, '/login'));
  const member = (req: Request, res: Response, next: NextFunction): void => {
    if (!sessions.has(req)) return redirect(req, res, '/login');
    // Every form of a logged-in page carries the session's CSRF token.
    if (req.method === 'POST' && !sameSecret(String(formOf(req)._csrf ?? ''), sessions.get(req)!.session.csrfToken)) {
      throw new InventoryError(403, 'csrf', 'This form has expired. Go back, reload the page and try again.');
    }
    next();
  };

  // Log in, sign up, log out.
  const showAccountForm = (req: Request, res: Response, form: 'login' | 'signup'): void => {
    if (form === 'login' && sessions.has(req)) return redirect(req, res, '/');
    const failed = flash.take(req, res, [form]);
    const render = form === 'login' ? loginPage : signupPage;
    res.status(failed?.status ?? 200).type('html').send(render(frame(req), stateOf(failed, form, blankForm())));
  };
  router.get('/login', (req, res) => showAccountForm(req, res, 'login'));
  router.post('/login', async (req, res) => {
    const form = formOf(req);
    try {
      const user = await logIn(inventory, pick(form, ['email', 'password']), { address: req.socket.remoteAddress ?? '' });
      const { token } = await startSession(inventory, user);
      res.append('Set-Cookie', sessionCookie(req.tenant!.id, token, scopeOf(req)));
      redirect(req, res, '/?notice=welcome');
    } catch (error) {
      if (!isInventoryError(error)) throw error;
      if (error.retryAfterSeconds !== undefined) {
        // Throttled: answered here (a reload is refused the same way, without hashing anything).
        res.set('Retry-After', String(error.retryAfterSeconds));
        return void res.status(error.status).type('html').send(loginPage(frame(req), failedForm(form, error)));
      }
      flash.fail(req, res, '/login', 'login', error, failedForm(form, error));
    }
  });
  router.get('/signup', (req, res) => showAccountForm(req, res, 'signup'));
  router.post('/signup', async (req, res) => {
    const form = formOf(req);
    try {
      const user = await signUp(inventory, pick(form, ['name', 'email', 'password', 'inviteCode']));
      const { token } = await startSession(inventory, user);
      res.append('Set-Cookie', sessionCookie(req.tenant!.id, token, scopeOf(req)));
      redirect(req, res, '/?notice=welcome');
    } catch (error) {
      if (!isInventoryError(error)) throw error;
      flash.fail(req, res, '/signup', 'signup', error, failedForm(form, error));
    }
  });
  // The new owner arrives from the platform's sign-up form with a one-time code.
  router.get('/welcome', async (req, res) => {
    const user = await redeemHandoff(inventory, queryValue(req.query, 'code') ?? '');
    if (user === undefined) return redirect(req, res, '/login?notice=business-created');
    const { token } = await startSession(inventory, user);
    res.append('Set-Cookie', sessionCookie(req.tenant!.id, token, scopeOf(req)));
    redirect(req, res, '/?notice=business-ready');
  });
  router.post('/logout', member, async (req, res) => {
    await endSession(inventory, sessions.get(req)!.token);
    res.append('Set-Cookie', clearedSessionCookie(scopeOf(req)));
    redirect(req, res, '/login?notice=logged-out');
  });

  // Dashboard.
  router.get('/', member, async (req, res) => void res.type('html').send(dashboardPage(memberFrame(req), await dashboard(inventory))));

  // Products.
  router.get('/products', member, async (req, res) => {
    const failed = flash.take(req, res, ['product', 'import']);
    const filter = parseProductFilter(req.query);
    const query = parseProductPage(req.query);
    const [{ products, next }, categories] = await Promise.all([listProductPage(inventory, filter, query), listCategories(inventory)]);
    const form = stateOf(failed, 'product', blankForm({ lowStockThreshold: '5' }));
    const pages = {
      next: next === null ? undefined : `/products?${pageQuery(req.query, next)}`,
      first: query.after === undefined ? undefined : `/products?${pageQuery(req.query)}`,
    };
    const imported = stateOf(failed, 'import', blankForm());
    const counts = queryValue(req.query, 'notice') === 'products-imported' ? importCounts(req.query) : undefined;
    const view = { products, categories, filter, form, imported, pages, ...(counts === undefined ? {} : { counts }) };
    res.status(failed?.status ?? 200).type('html').send(productsPage(memberFrame(req), view));
  });
  router.post('/products', member, async (req, res) => {
    const form = formOf(req);
    const { input, issues } = productInput(form);
    try {
      const product = await createProduct(inventory, input);
      redirect(req, res, `/products/${product.id}?notice=product-created`);
    } catch (error) {
      if (!isInventoryError(error) || error.status === 404) throw error;
      flash.fail(req, res, '/products', 'product', error, failedForm(form, error, issues));
    }
  });

  // CSV: export streams every product; import is all lines or none (domain/product-csv.ts).
  router.get('/products/export', member, async (req, res) => {
    const day = new Date().toISOString().slice(0, 10);
    res.type('text/csv; charset=utf-8').attachment(`products-${req.tenant!.id}-${day}.csv`);
    await writeProductCsv(inventory, res);
  });
  const upload = multer({ storage: multer.memoryStorage(), limits: { fileSize: CSV_IMPORT_LIMITS.maxBytes, files: 1, fields: 5, parts: 6 } }).single('file');
  router.post(
    '/products/import',
    signedIn,
    (req, res, next) =>
      upload(req, res, (error: unknown) => {
        if (error === undefined) return next();
        const tooLarge = (error as { code?: unknown }).code === 'LIMIT_FILE_SIZE';
        const refused = tooLarge
          ? new InventoryError(413, 'csv_too_large', `The file is larger than ${CSV_IMPORT_LIMITS.maxBytes / 1024 / 1024} MB: import it in parts`)
          : new InventoryError(400, 'invalid_upload', 'The upload could not be read: choose one CSV file');
        flash.fail(req, res, '/products', 'import', refused, failedForm({}, refused));
      }),
    member,
    async (req, res) => {
      try {
        if (req.file === undefined) throw invalidInput({ file: 'is required: choose a CSV file' });
        const { created, updated } = await importProductsCsv(inventory, req.file.buffer);
        redirect(req, res, `/products?notice=products-imported&created=${created}&updated=${updated}`);
      } catch (error) {
        if (!isInventoryError(error) || error.status === 404) throw error;
        flash.fail(req, res, '/products', 'import', error, failedForm({}, error));
      }
    },
  );

  router.get('/products/:id', member, async (req, res) => {
    const id = parseId(req.params.id);
    const failed = flash.take(req, res, [`edit-${id}`, `movement-${id}`, `delete-${id}`]);
    const product = await getProduct(inventory, id);
    const [categories, movements] = await Promise.all([listCategories(inventory), listMovements(inventory, { productId: id, limit: 50 })]);
    const edit = stateOf(failed, `edit-${id}`, blankForm(productValues(product)));
    const movement = stateOf(failed, `movement-${id}`, blankForm({ kind: 'in' }));
    const view = { product, categories, movements, edit, movement, remove: stateOf(failed, `delete-${id}`, blankForm()) };
    res.status(failed?.status ?? 200).type('html').send(productPage(memberFrame(req), view));
  });
  router.post('/products/:id', member, async (req, res) => {
    const id = parseId(req.params.id);
    const form = formOf(req);
    const { input, issues } = productInput(form);
    try {
      await updateProduct(inventory, id, input);
      redirect(req, res, `/products/${id}?notice=product-updated`);
    } catch (error) {
      if (!isInventoryError(error) || error.status === 404) throw error;
      flash.fail(req, res, `/products/${id}`, `edit-${id}`, error, failedForm(form, error, issues));
    }
  });
  // Deleting cannot be undone: the form asks for the product's SKU (checked here, not only by the
  // browser's `required`). The API's DELETE needs no such step.
  router.post('/products/:id/delete', member, async (req, res) => {
    const id = parseId(req.params.id);
    requireOwner(userOf(req), 'delete products');
    const form = formOf(req);
    const product = await getProduct(inventory, id);
    const typed = (form.confirm ?? '').trim();
    if (typed.toUpperCase() !== product.sku.toUpperCase()) {
      const error = invalidInput({ confirm: `must be ${product.sku} to delete this product` });
      return flash.fail(req, res, `/products/${id}`, `delete-${id}`, error, failedForm({ confirm: typed }, error));
    }
    await deleteProduct(inventory, userOf(req), id);
    redirect(req, res, '/products?notice=product-deleted');
  });
  router.post('/products/:id/movements', member, async (req, res) => {
    const id = parseId(req.params.id);
    const form = formOf(req);
    try {
      await recordMovement(inventory, id, { kind: form.kind, quantity: formInteger(form.quantity), note: form.note });
      redirect(req, res, `/products/${id}?notice=movement-recorded`);
    } catch (error) {
      if (!isInventoryError(error) || error.status === 404) throw error;
      flash.fail(req, res, `/products/${id}`, `movement-${id}`, error, failedForm(form, error));
    }
  });

  // Categories.
  router.get('/categories', member, async (req, res) => {
    const failed = flash.take(req, res, ['category', 'rename']);
    const form = stateOf(failed, 'category', blankForm());
    const rename = stateOf(failed, 'rename', blankForm());
    res.status(failed?.status ?? 200).type('html').send(categoriesPage(memberFrame(req), await listCategories(inventory), form, rename));
  });
  router.post('/categories', member, async (req, res) => {
    const form = formOf(req);
    try {
      await createCategory(inventory, pick(form, ['name']));
      redirect(req, res, '/categories?notice=category-created');
    } catch (error) {
      if (!isInventoryError(error) || error.status === 404) throw error;
      flash.fail(req, res, '/categories', 'category', error, failedForm(form, error));
    }
  });
  router.post('/categories/:id', member, async (req, res) => {
    const id = parseId(req.params.id);
    const form = formOf(req);
    try {
      await renameCategory(inventory, id, pick(form, ['name']));
      redirect(req, res, '/categories?notice=category-renamed');
    } catch (error) {
      if (!isInventoryError(error) || error.status === 404) throw error;
      flash.fail(req, res, '/categories', 'rename', error, failedForm({ ...form, id: String(id) }, error));
    }
  });
  router.post('/categories/:id/delete', member, async (req, res) => {
    await deleteCategory(inventory, parseId(req.params.id));
    redirect(req, res, '/categories?notice=category-deleted');
  });

  // Team.
  router.get('/team', member, async (req, res) => {
    const failed = flash.take(req, res, ['team']);
    const [users, code] = await Promise.all([listUsers(inventory), inviteCode(inventory)]);
    const signupUrl = `${req.protocol}://${req.headers.host ?? ''}${baseOf(req)}/signup`;
    res.status(failed?.status ?? 200).type('html').send(teamPage(memberFrame(req), { users, inviteCode: code, signupUrl, form: stateOf(failed, 'team', blankForm()) }));
  });
  // Owners only: staff get the 403 page (the page shows them no such buttons).
  const teamChange = (path: string, change: (req: Request) => Promise<unknown>, notice: string): void => {
    router.post(path, member, async (req, res) => {
      try {
        await change(req);
        redirect(req, res, `/team?notice=${notice}`);
      } catch (error) {
        if (!isInventoryError(error) || error.status === 404 || error.status === 403) throw error;
        flash.fail(req, res, '/team', 'team', error, failedForm({}, error));
      }
    });
  };
  teamChange('/team/invite-code', (req) => regenerateInviteCode(inventory, userOf(req)), 'invite-code-regenerated');
  teamChange('/team/:id/remove', (req) => removeMember(inventory, userOf(req), parseId(req.params.id)), 'member-removed');
  teamChange('/team/:id/role', (req) => changeRole(inventory, userOf(req), parseId(req.params.id), pick(formOf(req), ['role'])), 'role-changed');

  // The low-stock digest, now (owners only): the job queue's worker writes it in a moment.
  router.post('/digests', member, async (req, res) => {
    requireOwner(userOf(req), 'send the low-stock digest');
    await inventory.jobs.requestDigest();
    redirect(req, res, '/?notice=digest-requested');
  });

  return router;
}

/**
 * Renders the HTML answer to an error on a page: the domain's and tenantry's 4xx as they are,
 * anything else as a 500 page (logged).
 *
 * @example
 * ```ts
 * app.use((error, req, res, next) => sendErrorPage(inventory, req, res, error));
 * ```
 */
export function sendErrorPage(inventory: Inventory, req: Request, res: Response, error: unknown): void {
  const frame = { base: baseOf(req), ...(req.tenant ? { business: businessOf(req.tenant) } : {}) };
  const known = isInventoryError(error) ? error : undefined;
  const status = known?.status ?? clientStatus(error);
  if (status === undefined) {
    inventory.logError(error);
    res.status(500).type('html').send(errorPage(frame, 500, 'Something went wrong', 'The error is logged. Please try again in a moment.'));
    return;
  }
  const detail = known?.message ?? (isTenancyError(error) ? error.message : 'The request could not be read.');
  res.status(status).type('html').send(errorPage(frame, status, status === 404 ? 'Not found' : 'That did not work', detail));
}

/**
 * The page for a request tenantry's middleware refused: an unknown business (404), an address
 * that cannot be a business (400), a suspended business (403). Its Home link goes to the platform.
 *
 * @example
 * ```ts
 * tenancyMiddleware(tenancy, { onRefused: (error, req, res) => sendRefusedPage(inventory, req, res, error) });
 * ```
 */
export function sendRefusedPage(inventory: Inventory, req: Request, res: Response, error: TenancyError): void {
  const detail = REFUSALS[error.code] ?? error.message;
  const title = error.httpStatus === 404 ? 'Not found' : 'That did not work';
  res.status(error.httpStatus).type('html').send(errorPage({ base: '' }, error.httpStatus, title, detail, platformUrl(inventory, req.headers.host)));
}

const REFUSALS: Readonly<Record<string, string>> = {
  TENANTRY_TENANT_NOT_FOUND: 'There is no business at this address.',
  TENANTRY_INVALID_TENANT_ID: 'This address cannot be a business: addresses are lower-case letters, digits and “-”.',
  TENANTRY_INVALID_DOMAIN: 'This is not a valid host name.',
  TENANTRY_TENANT_SUSPENDED: 'This business is suspended.',
};

/** The 404 page. */
export function sendNotFoundPage(req: Request, res: Response): void {
  const frame = { base: baseOf(req), ...(req.tenant ? { business: businessOf(req.tenant) } : {}) };
  res.status(404).type('html').send(errorPage(frame, 404, 'Not found', 'There is no page at this address.'));
}

function baseOf(req: Request): string {
  return basePathOf(req.originalUrl, req.url, req.tenant ?? null);
}

/** The submitted form as strings (the first value of repeated fields). */
function formOf(req: Request): Record<string, string> {
  const body: unknown = req.body;
  const form: Record<string, string> = {};
  if (typeof body !== 'object' || body === null) return form;
  for (const [key, value] of Object.entries(body)) {
    const text = Array.isArray(value) ? value[0] : value;
    if (typeof text === 'string') form[key] = text;
  }
  return form;
}

function pick(form: Readonly<Record<string, string>>, keys: readonly string[]): Record<string, string> {
  return Object.fromEntries(keys.filter((key) => key in form).map((key) => [key, form[key]!]));
}

/** A form field that should hold a whole number: the number, or the text as typed (the domain then says what is wrong). */
function formInteger(value: string | undefined): number | string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  return /^\s*-?[0-9]{1,10}\s*$/.test(value) ? Number(value) : value;
}

/** The product form as the domain's input; the price is typed in dollars (`12.50`). */
function productInput(form: Readonly<Record<string, string>>): { input: Record<string, unknown>; issues: Record<string, string> } {
  const issues: Record<string, string> = {};
  const price = (form.price ?? '').trim();
  // A price that is not an amount goes on as typed, so the domain refuses it too; the form's message replaces the domain's.
  const unitPriceCents = parsePriceCents(price) ?? price;
  if (typeof unitPriceCents === 'string') issues.unitPriceCents = price === '' ? 'is required' : 'must be an amount like 12.50';
  const input: Record<string, unknown> = {
    sku: form.sku,
    name: form.name,
    unitPriceCents,
    categoryId: form.categoryId ? formInteger(form.categoryId) : null,
  };
  const threshold = formInteger(form.lowStockThreshold);
  if (threshold !== undefined) input.lowStockThreshold = threshold;
  return { input, issues };
}

function productValues(product: Product): Record<string, string> {
  return {
    sku: product.sku,
    name: product.name,
    price: centsToInput(product.unitPriceCents),
    categoryId: product.categoryId === null ? '' : String(product.categoryId),
    lowStockThreshold: String(product.lowStockThreshold),
  };
}

/** `?created=&updated=` of the redirect after an import, when both are counts. */
function importCounts(query: Readonly<Record<string, unknown>>): { created: number; updated: number } | undefined {
  const [created, updated] = [queryValue(query, 'created'), queryValue(query, 'updated')];
  if (created === undefined || updated === undefined || !/^[0-9]{1,6}$/.test(created) || !/^[0-9]{1,6}$/.test(updated)) return undefined;
  return { created: Number(created), updated: Number(updated) };
}

/** The form shown again: what was typed (never the password), the issues, and the message. */
function failedForm(form: Readonly<Record<string, string>>, error: InventoryError, formIssues: Readonly<Record<string, string>> = {}): FormState {
  const { password: _password, _csrf, ...values } = form;
  const issues = { ...error.issues, ...formIssues };
  return { values, issues, error: error.code === 'invalid_input' ? undefined : error.message };
}

function clientStatus(error: unknown): number | undefined {
  const { status, statusCode, httpStatus } = (error ?? {}) as { status?: unknown; statusCode?: unknown; httpStatus?: unknown };
  const value = [httpStatus, statusCode, status].find((candidate) => typeof candidate === 'number');
  return typeof value === 'number' && value >= 400 && value < 500 ? value : undefined;
}
