import { Body, Controller, HttpCode, Post, Req } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { AccountMailService } from '@berth/accounts';
import type { Request } from 'express';
import {
  AccountLinkDto,
  CompletePasswordResetDto,
  EmailVerifiedDto,
  MailedLinkAcceptedDto,
  PasswordResetRequestDto,
  SessionDto,
} from './accounts.dto';
import { ClientLimits } from './client-limits';
import { ErrorResponseDto } from './common.dto';
import { NoStore } from './no-store';

export const RESET_SENT_MESSAGE =
  'If this address has an account, a link to reset its password is on its way. It works once, for 30 minutes.';

/** What the links mailed to a publisher account do: confirm the address, reset a forgotten password. */
@ApiTags('accounts')
@Controller('v1/accounts')
export class AccountLinksController {
  constructor(
    private readonly mail: AccountMailService,
    private readonly limits: ClientLimits,
  ) {}

  @Post('verification')
  @HttpCode(200)
  @ApiOperation({ summary: 'Confirm the e-mail address with the link mailed at sign-up' })
  @ApiResponse({ status: 200, type: EmailVerifiedDto })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description: 'account_link_invalid (used, expired, forged)',
  })
  async verify(@Body() dto: AccountLinkDto): Promise<EmailVerifiedDto> {
    await this.mail.verifyEmail(dto.token);
    return { verified: true };
  }

  @Post('password-resets')
  @HttpCode(202)
  @ApiOperation({
    summary: 'E-mail a link to reset a forgotten password',
    description: 'Always 202: the answer never tells whether the address has an account.',
  })
  @ApiResponse({ status: 202, type: MailedLinkAcceptedDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'validation_failed' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'too_many_login_links (Retry-After)' })
  async requestReset(
    @Body() dto: PasswordResetRequestDto,
    @Req() req: Request,
  ): Promise<MailedLinkAcceptedDto> {
    await this.limits.consumeMailedLink('passwordReset', req, dto.email);
    await this.mail.requestPasswordReset(dto.email);
    return { message: RESET_SENT_MESSAGE };
  }

  @Post('password-resets/complete')
  @HttpCode(200)
  @NoStore()
  @ApiOperation({
    summary: 'Set a new password with a reset link',
    description:
      'Ends every session of the account and answers a fresh access token; confirms the address too.',
  })
  @ApiResponse({ status: 200, type: SessionDto })
  @ApiResponse({
    status: 400,
    type: ErrorResponseDto,
    description: 'validation_failed, account_link_invalid (used, expired, forged)',
  })
  async completeReset(@Body() dto: CompletePasswordResetDto): Promise<SessionDto> {
    return this.mail.resetPassword(dto.token, dto.newPassword);
  }
}
