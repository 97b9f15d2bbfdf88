import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { COPY_SCRIPT } from './checkout-pages.controller';

/** Static files the HTML pages load from the store's own origin (their CSP allows scripts from 'self' only). */
@ApiExcludeController()
@Controller('assets')
export class AssetsController {
  @Get('copy.js')
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @Header('Cache-Control', 'public, max-age=3600')
  copyScript(): string {
    return COPY_SCRIPT;
  }
}
