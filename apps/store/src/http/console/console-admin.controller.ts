import { Controller, Get, HttpCode, Inject, Param, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import {
  API_TOKEN_SCOPES,
  AccountsErrors,
  ApiTokenService,
  ConsoleSessions,
  LOGO_MAX_BYTES,
  PublisherPrincipal,
  PublisherProfile,
  PublisherProfileChange,
  PublisherProfileService,
} from '@berth/accounts';
import { AUDIT_ACTIONS, AuditAction, AuditLog } from '@berth/audit';
import { APP_CONFIG, AppConfig } from '@berth/config';
import {
  ConsoleAnalyticsFilter,
  ConsoleNotice,
  ConsoleProfileForm,
  ConsoleTokenForm,
  consoleHtml,
  PageContext,
  publisherLogoUrl,
} from '@berth/storefront';
import { isUUID } from 'class-validator';
import type { Request, Response } from 'express';
import { PublisherLogos } from '../../publisher-logos';
import { CreateApiTokenDto } from '../accounts.dto';
import { Audited, auditSubject, param } from '../audited';
import { DownloadReport, downloadsQuery } from '../download-report';
import { formField, queryField } from '../form-field';
import { HttpErrors } from '../http-errors';
import { pageContext } from '../page-response';
import { Principal } from '../publisher-auth.guard';
import { validateDto } from '../validate-dto';
import { ConsoleRoute } from './console-auth';
import { doneNotice, formAction, redirectDone, sendConsolePage } from './console-response';
import { readProfileForm } from './profile-form';

type Publisher = PublisherPrincipal['publisher'];
const AUDIT_PAGE_SIZE = 50;

/** A form field that may repeat (checkboxes): its string values. */
function formValues(req: Request, name: string): string[] {
  const v = (req.body as Record<string, unknown> | undefined)?.[name];
  return (Array.isArray(v) ? v : [v]).filter((x): x is string => typeof x === 'string');
}

/**
 * The console's API tokens, analytics, audit log and profile: forms over the services the /v1 routes use
 * (token create and revoke, the download report, the audit log, the profile and logo), with their refusals.
 */
@ApiExcludeController()
@Controller('console/:slug')
export class ConsoleAdminController {
  private readonly ctx: PageContext;

  constructor(
    private readonly tokens: ApiTokenService,
    private readonly report: DownloadReport,
    private readonly audit: AuditLog,
    private readonly sessions: ConsoleSessions,
    private readonly profiles: PublisherProfileService,
    private readonly logos: PublisherLogos,
    @Inject(APP_CONFIG) config: AppConfig,
  ) {
    this.ctx = pageContext(config);
  }

  private url(publisher: Publisher, section: string): string {
    return `${this.ctx.basePath}/console/${publisher.slug}/${section}`;
  }

  // ---- API tokens ----

  @Get('tokens')
  @ConsoleRoute()
  async tokenList(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.renderTokens(req, res, publisher, { notice: doneNotice(req) });
  }

  @Post('tokens')
  @ConsoleRoute()
  @Audited('api_token_created')
  async createToken(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const form: ConsoleTokenForm = {
      name: formField(req, 'name').slice(0, 100),
      scopes: formValues(req, 'scopes'),
    };
    await formAction(
      async () => {
        const dto = await validateDto(CreateApiTokenDto, {
          name: formField(req, 'name'),
          scopes: form.scopes,
        });
        const created = await this.tokens.create(publisher.id, dto.name, dto.scopes);
        auditSubject(req, `${created.id} (${created.name}: ${created.scopes.join(' ')})`);
        // The secret is in this answer only (never in a URL); sendConsolePage says no-store.
        await this.renderTokens(req, res, publisher, {
          created: { name: created.name, token: created.token },
          status: 201,
        });
      },
      (notice, status) => this.renderTokens(req, res, publisher, { notice, status, form }),
    );
  }

  @Post('tokens/:id/revoke')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('api_token_revoked', param('id'))
  async revokeToken(
    @Principal() { publisher }: PublisherPrincipal,
    @Param('id') id: string,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await formAction(
      async () => {
        if (!isUUID(id)) throw AccountsErrors.ApiTokenNotFound();
        await this.tokens.revoke(publisher.id, id);
        redirectDone(res, this.url(publisher, 'tokens'), 'tokenRevoked');
      },
      (notice, status) => this.renderTokens(req, res, publisher, { notice, status }),
    );
  }

  private async renderTokens(
    req: Request,
    res: Response,
    publisher: Publisher,
    opts: {
      notice?: ConsoleNotice;
      status?: number;
      form?: ConsoleTokenForm;
      created?: { name: string; token: string };
    },
  ): Promise<void> {
    const tokens = await this.tokens.list(publisher.id);
    const html = consoleHtml.tokens(this.ctx, {
      publisher,
      tokens: tokens.map((t) => ({
        id: t.id,
        name: t.name,
        scopes: t.scopes,
        created: t.createdAt.toISOString(),
        lastUsed: t.lastUsedAt?.toISOString() ?? null,
        revoked: t.revokedAt?.toISOString() ?? null,
      })),
      scopes: API_TOKEN_SCOPES,
      form: opts.form ?? { name: '', scopes: [] },
      created: opts.created,
      notice: opts.notice,
    });
    sendConsolePage(req, res, html, opts.status);
  }

  // ---- Analytics ----

  @Get('analytics')
  @ConsoleRoute()
  async analytics(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const filter: ConsoleAnalyticsFilter = {
      from: queryField(req, 'from').slice(0, 40),
      to: queryField(req, 'to').slice(0, 40),
      chart: queryField(req, 'chart').slice(0, 63),
      license: queryField(req, 'license').slice(0, 36),
    };
    const charts = await this.report.chartNames(publisher.id);
    const render = (
      report: Awaited<ReturnType<DownloadReport['report']>> | null,
      notice?: ConsoleNotice,
      status = 200,
    ) =>
      sendConsolePage(
        req,
        res,
        consoleHtml.analytics(this.ctx, {
          publisher,
          filter: report ? { ...filter, from: report.from, to: report.to } : filter,
          charts,
          report,
          notice,
        }),
        status,
      );
    await formAction(
      async () => render(await this.report.report(publisher.id, await downloadsQuery(req.query))),
      (notice, status) => render(null, notice, status),
    );
  }

  // ---- Audit log ----

  @Get('audit')
  @ConsoleRoute()
  async auditLog(
    @Principal() principal: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    const { publisher } = principal;
    const ownerAccountId = principal.kind === 'owner' ? principal.accountId : '';
    const action = queryField(req, 'action');
    const cursor = queryField(req, 'cursor');
    const render = (
      page: Awaited<ReturnType<AuditLog['list']>>,
      who: (e: (typeof page.events)[number]) => string,
      notice?: ConsoleNotice,
      status = 200,
    ) => {
      const next = page.nextCursor
        ? `${this.url(publisher, 'audit')}?${new URLSearchParams({ ...(action ? { action } : {}), cursor: page.nextCursor })}`
        : null;
      sendConsolePage(
        req,
        res,
        consoleHtml.audit(this.ctx, {
          publisher,
          events: page.events.map((e) => ({
            at: e.at.toISOString(),
            who: who(e),
            action: e.action,
            subject: e.subject,
            address: e.clientAddress,
            client: e.userAgent,
          })),
          actions: AUDIT_ACTIONS,
          action: (AUDIT_ACTIONS as readonly string[]).includes(action) ? action : '',
          nextHref: next,
          notice,
        }),
        status,
      );
    };
    await formAction(
      async () => {
        if (action && !(AUDIT_ACTIONS as readonly string[]).includes(action))
          throw HttpErrors.ValidationFailed([`action must be one of: ${AUDIT_ACTIONS.join(', ')}`]);
        const page = await this.audit.list(publisher.id, ownerAccountId, {
          action: (action || undefined) as AuditAction | undefined,
          cursor: cursor || undefined,
          limit: AUDIT_PAGE_SIZE,
        });
        const [tokens, emails] = await Promise.all([
          this.tokens.list(publisher.id),
          this.emailsOf(page.events.flatMap((e) => (e.actor.kind === 'owner' ? [e.actor.accountId] : []))),
        ]);
        const tokenNames = new Map(tokens.map((t) => [t.id, t.name]));
        render(page, (e) =>
          e.actor.kind === 'owner'
            ? emails.get(e.actor.accountId) || 'The owner'
            : `API token ${tokenNames.get(e.actor.tokenId) ?? e.actor.tokenId}`,
        );
      },
      (notice, status) => render({ events: [], nextCursor: null }, () => '', notice, status),
    );
  }

  private async emailsOf(accountIds: string[]): Promise<Map<string, string>> {
    const ids = [...new Set(accountIds)];
    return new Map(await Promise.all(ids.map(async (id) => [id, await this.sessions.email(id)] as const)));
  }

  // ---- Profile ----

  @Get('profile')
  @ConsoleRoute()
  async profile(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    await this.renderProfile(req, res, publisher, doneNotice(req));
  }

  @Post('profile')
  @HttpCode(303)
  @ConsoleRoute()
  @Audited('profile_changed')
  async saveProfile(
    @Principal() { publisher }: PublisherPrincipal,
    @Req() req: Request,
    @Res() res: Response,
  ): Promise<void> {
    let typed: ConsoleProfileForm | undefined;
    await formAction(
      async () => {
        const posted = await readProfileForm(req);
        typed = {
          displayName: posted.displayName.slice(0, 400),
          supportEmail: posted.supportEmail.slice(0, 320),
          logoUrl: posted.logoUrl.slice(0, 2100),
        };
        // The image is checked before anything is saved: a refused logo leaves the profile as it was.
        const logo = posted.logo ? this.logos.check(posted.logo) : undefined;
        const current = (await this.profiles.get(publisher.id))!;
        const change: PublisherProfileChange = {
          displayName: posted.displayName,
          supportEmail: posted.supportEmail || null,
        };
        if (posted.removeLogo) change.logoUrl = null;
        else if (!logo) {
          if (posted.logoUrl) change.logoUrl = posted.logoUrl;
          else if (current.logo?.kind === 'url') change.logoUrl = null;
        }
        const saved = await this.logos.update(publisher.id, change);
        const after = logo ? await this.logos.upload(publisher.id, logo) : saved;
        auditSubject(req, changedFields(current, after) || 'nothing');
        redirectDone(res, this.url(publisher, 'profile'), 'profile');
      },
      (notice, status) => this.renderProfile(req, res, publisher, notice, status, typed),
    );
  }

  private async renderProfile(
    req: Request,
    res: Response,
    publisher: Publisher,
    notice?: ConsoleNotice,
    status = 200,
    typed?: ConsoleProfileForm,
  ): Promise<void> {
    const p = (await this.profiles.get(publisher.id))!;
    const html = consoleHtml.profile(this.ctx, {
      publisher: { slug: p.slug, displayName: p.displayName },
      form: typed ?? {
        displayName: p.displayName,
        supportEmail: p.supportEmail ?? '',
        logoUrl: p.logo?.kind === 'url' ? p.logo.url : '',
      },
      logo: publisherLogoUrl(this.ctx.basePath, p.slug, p.logo),
      maxLogoBytes: LOGO_MAX_BYTES,
      notice,
    });
    sendConsolePage(req, res, html, status);
  }
}

/** What a profile change changed, for the audit log: field names, never their values. */
function changedFields(before: PublisherProfile, after: PublisherProfile): string {
  const out: string[] = [];
  if (before.displayName !== after.displayName) out.push('displayName');
  if (before.supportEmail !== after.supportEmail) out.push('supportEmail');
  if (JSON.stringify(before.logo) !== JSON.stringify(after.logo)) out.push('logo');
  return out.join(', ');
}
